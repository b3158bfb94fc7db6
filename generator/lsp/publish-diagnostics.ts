/**
 * Turns one analysis of the project into publishDiagnostics notifications: one per file that has
 * problems, an empty one for each file whose problems are gone, and one for each document the
 * analysis was asked about (with the version it analysed, so a client can tell it is current).
 * Diagnostics without a place (a tsconfig that cannot be read) go to the log, and to a message
 * window the first time each is seen.
 */
import { MessageType, ShowMessageNotification, type Connection, type Diagnostic as LspDiagnostic } from "vscode-languageserver/node";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { DocumentPaths } from "./document-paths.js";
import type { SourceTexts } from "./source-positions.js";
import { toLspDiagnostic } from "./to-lsp-diagnostic.js";

/** A published diagnostic and the asymgen diagnostic it comes from (for code actions). */
export interface PublishedDiagnostic {
  lsp: LspDiagnostic;
  source: Diagnostic;
}

/** What one analysis is published as. */
export interface PublishRequest {
  diagnostics: readonly Diagnostic[];
  /** Files the analysis was asked about: always published, even when nothing changed. */
  asked: ReadonlySet<string>;
  /** The version of every open document as the analysis read it (sent with its publish). */
  versions: ReadonlyMap<string, number>;
  /** Files not to publish for (an open document edited since the analysis started: its result is stale). */
  stale: ReadonlySet<string>;
}

/** Keeps what was last published per file and publishes what changed. */
export class DiagnosticsPublisher {
  private readonly published = new Map<string, { key: string; diagnostics: PublishedDiagnostic[]; version: number | undefined }>();
  private readonly shownRunProblems = new Set<string>();

  constructor(
    private readonly connection: Connection,
    private readonly paths: DocumentPaths,
  ) {}

  /** The diagnostics last published for `file`, and the document version they describe (undefined: the disk). */
  diagnosticsOf(file: string): { diagnostics: readonly PublishedDiagnostic[]; version: number | undefined } {
    const published = this.published.get(this.paths.normalize(file));
    return { diagnostics: published?.diagnostics ?? [], version: published?.version };
  }

  /** Publishes one analysis. */
  async publish(request: PublishRequest, texts: SourceTexts): Promise<void> {
    const byFile = new Map<string, PublishedDiagnostic[]>();
    for (const diagnostic of request.diagnostics) {
      if (diagnostic.span === undefined) {
        this.reportRunProblem(diagnostic);
        continue;
      }
      const span = diagnostic.span;
      // Keyed by the normal form, as `asked` is: two spellings of one file would publish an
      // empty set after the real one, and the client would show nothing.
      const file = this.paths.normalize(span.file);
      const list = byFile.get(file) ?? [];
      list.push({ lsp: toLspDiagnostic({ ...diagnostic, span }, texts, this.paths), source: diagnostic });
      byFile.set(file, list);
    }
    const normal = (files: Iterable<string>): Set<string> => new Set([...files].map((file) => this.paths.normalize(file)));
    const asked = normal(request.asked);
    const stale = normal(request.stale);
    const versions = new Map([...request.versions].map(([file, version]) => [this.paths.normalize(file), version]));
    const files = new Set([...byFile.keys(), ...this.published.keys(), ...asked]);
    for (const file of [...files].sort()) {
      if (stale.has(file)) continue;
      const diagnostics = byFile.get(file) ?? [];
      const key = JSON.stringify(diagnostics.map((d) => d.lsp));
      const version = versions.get(file);
      const previous = this.published.get(file);
      if (!asked.has(file) && (previous?.key ?? "[]") === key) {
        if (previous !== undefined) previous.version = version;
        continue;
      }
      if (diagnostics.length === 0) this.published.delete(file);
      else this.published.set(file, { key, diagnostics, version });
      await this.connection.sendDiagnostics({ uri: this.paths.toUri(file), diagnostics: diagnostics.map((d) => d.lsp), ...(version === undefined ? {} : { version }) });
    }
  }

  private reportRunProblem(diagnostic: Diagnostic): void {
    const text = `asymgen ${diagnostic.severity} ${diagnostic.code}: ${diagnostic.message}${diagnostic.hint === undefined ? "" : ` (hint: ${diagnostic.hint})`}`;
    this.connection.console.warn(text);
    if (this.shownRunProblems.has(text)) return;
    this.shownRunProblems.add(text);
    // A notification (window/showMessage), not window.showErrorMessage's request: nothing to answer.
    void this.connection.sendNotification(ShowMessageNotification.type, { type: diagnostic.severity === "error" ? MessageType.Error : MessageType.Warning, message: text });
  }
}
