// The traffic webview's HTML. One function, used by the view provider and by the browser tests,
// so the page under test carries exactly the Content-Security-Policy users get: nothing inline
// but one nonce'd script tag, scripts and styles only from the extension's media folder.

/** Files under media/dist that the page loads (built by esbuild.mjs). */
export const TRAFFIC_ASSETS = {
  script: 'traffic.js',
  style: 'traffic.css',
  codicons: 'codicon.css',
} as const;

export interface TrafficHtmlOptions {
  /** `webview.cspSource`: the origin the webview serves local resources from. */
  cspSource: string;
  /** A fresh random nonce per render. */
  nonce: string;
  /** `asWebviewUri` of each asset. */
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
}

export function trafficCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderTrafficHtml(o: TrafficHtmlOptions): string {
  const attr = escapeAttribute;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(trafficCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.codiconsUri)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>Kiro Bridge traffic</title>
</head>
<body>
<div id="app" class="app" aria-busy="true"></div>
<script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** A 128-bit random nonce (Web Crypto, available in the extension host's Node and in browsers). */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
