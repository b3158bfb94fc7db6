/**
 * `npm run check:deps` (first step of `npm test`): the import rules that keep the packages and
 * their rooms apart. Type-only imports count: a type cycle is still two modules that cannot be
 * read apart.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one: neither can be read, tested or moved alone.",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-no-node-builtins",
      severity: "error",
      comment:
        "The runtime core runs in browsers too: node:* (and Node's built-ins by bare name) only in runtime/node/, the Node adapter.",
      from: { path: "^runtime/", pathNot: "^runtime/node/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "core-not-node-adapter",
      severity: "error",
      comment: "The core reaches the platform through runtime/platform (installed by an entry point), never runtime/node/ directly.",
      from: { path: "^runtime/", pathNot: "^runtime/node/" },
      to: { path: "^runtime/node/" },
    },
    {
      name: "templates-not-generator",
      severity: "error",
      comment: "templates/ only prints a view model (templates/file-view.ts); the generator imports templates, never the reverse.",
      from: { path: "^templates/" },
      to: { path: "^generator/" },
    },
    // The server's rooms, bottom up: bson/ (reading BSON) ← ejson/ (writing Extended JSON) ←
    // validate/ (schema → scanners) ← ingest/ (request → store batch); stores/ defines the batch
    // types ingest produces and knows none of them.
    {
      name: "server-bson-is-a-leaf",
      severity: "error",
      comment: "Reading BSON needs nothing else of the server.",
      from: { path: "^server/bson/" },
      to: { path: "^server/", pathNot: "^server/bson/" },
    },
    {
      name: "server-ejson-reads-only-bson",
      severity: "error",
      comment: "Writing Extended JSON may read BSON, nothing else of the server.",
      from: { path: "^server/ejson/" },
      to: { path: "^server/", pathNot: "^server/(ejson|bson)/" },
    },
    {
      name: "server-validate-below-ingest",
      severity: "error",
      comment: "Validation reads BSON and writes Extended JSON; it knows neither ingest nor the stores.",
      from: { path: "^server/validate/" },
      to: { path: "^server/", pathNot: "^server/(validate|ejson|bson)/" },
    },
    {
      name: "server-ingest-below-routes",
      severity: "error",
      comment: "Ingest turns a request into a store batch: it uses bson, ejson, validate, http errors and the batch types, never a route, auth or a store itself.",
      from: { path: "^server/ingest/" },
      to: { path: "^server/", pathNot: "^server/(ingest|validate|ejson|bson|http)/|^server/stores/store-batch\\.ts$" },
    },
    {
      name: "server-ingest-takes-store-types-only",
      severity: "error",
      comment: "The batch types are the stores' contract; ingest imports them as types, so no store code loads with it.",
      from: { path: "^server/ingest/" },
      to: { path: "^server/stores/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "stores-not-ingest-or-validate",
      severity: "error",
      comment: "Stores persist what ingest hands them; ingest and validation sit above stores, imports go one way.",
      from: { path: "^server/stores/" },
      to: { path: "^server/(ingest|validate|ejson|bson)/" },
    },
    {
      name: "server-tables-pure-layer",
      severity: "error",
      comment:
        "tables/ (typed table layouts and the row codec) is pure: it reads BSON (bson/), may write Extended JSON (ejson/), and takes the stores' batch types and identifier quoting; stores import it, never ingest, validate, routes or auth.",
      from: { path: "^server/tables/" },
      to: { path: "^server/", pathNot: "^server/(tables|bson|ejson)/|^server/stores/(store-batch|quote-identifier)\\.ts$" },
    },
    {
      name: "optional-store-drivers-load-on-demand",
      severity: "error",
      comment:
        "pg and mongodb are optional peers of @asymgen/server: imported statically only as types; their code loads with import() when a store URL names them (stores/load-store-driver.ts).",
      from: { path: "^server/" },
      to: { path: "node_modules/(pg|mongodb)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-relative-import-across-packages",
      severity: "error",
      comment:
        "A package reaches another through its name (asymgen, asymgen/codegen, @asymgen/server/cli…), never a relative path: the tarballs do not hold each other's folders.",
      from: { path: "^(runtime|generator|templates|server)/" },
      to: {
        // By package name, a tsconfig `paths` alias (tsconfig.json maps the names to source) is fine.
        dependencyTypes: ["local"],
        dependencyTypesNot: ["aliased"],
        path: "^(runtime|generator|templates|server)/",
        pathNot: ["^$1/", "^(generator|templates)/"],
      },
    },
    {
      name: "runtime-imports-no-other-package",
      severity: "error",
      comment: "asymgen (runtime/) depends on bson only: never on the generator or the server.",
      from: { path: "^runtime/" },
      to: { path: "^(generator|templates|server)/" },
    },
    {
      name: "generator-and-server-apart",
      severity: "error",
      comment: "The generator and the server are installed independently: the bin reaches the server only through import(\"@asymgen/server/cli\").",
      from: { path: "^(generator|templates)/" },
      to: { path: "^server/" },
    },
    {
      name: "server-not-generator",
      severity: "error",
      comment: "The server never needs the generator (ts-morph, prettier).",
      from: { path: "^server/" },
      to: { path: "^(generator|templates)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|build)/" },
    // Type-only imports are dependencies too (see above).
    tsPreCompilationDeps: true,
    // Resolves the package names to their source, as tsc does for the type check.
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["types", "import", "node", "default"] },
  },
};
