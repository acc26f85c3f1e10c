// Everything an e2e test needs: a real VS Code (code-server), Chromium, the workbench moves, the
// packaged extension and failure diagnostics. See test/e2e/README.md.
export { CodeServer, baseUserSettings, type CodeServerOptions } from './code-server';
export { processGroupExists, reapOrphans } from './owned-temp';
export { chromiumArgs, launchChromium } from './browser';
export { Workbench, type OpenOptions } from './workbench';
export { extension, packageVsix } from './vsix';
export { printDiagnostics, printDiagnosticsOnFailure, type DiagnosticsSubject } from './diagnostics';
export { outputDir, repoRoot } from './paths';
export { sleep, waitUntil } from './util';
export { freePort, isPortOpen, waitForPort } from './net';
export { useVsCode, type VsCodeSessionOptions } from './session';
