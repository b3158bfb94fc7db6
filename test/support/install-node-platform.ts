/**
 * For tests that import runtime modules by path (App, the sync session) instead of through
 * "asymgen": the package entry installs the Node platform (transport, user store) as a side
 * effect, and jest maps "asymgen" to that entry, so importing it is all this does.
 */
import "asymgen";
