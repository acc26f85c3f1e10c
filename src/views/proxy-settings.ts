// VS Code's proxy settings for the bridge's calls to Kiro: `http.proxy` (with `http.noProxy` and
// `http.proxyStrictSSL`) when set, else the HTTPS_PROXY / HTTP_PROXY / NO_PROXY the editor was
// started with (VS Code honours those itself). The agents come from kiro/http/proxy, one per account.
import * as vscode from 'vscode';
import { proxyFromEnvironment, proxyFromUrl, type ProxySettings } from '../kiro/http/proxy-settings';

export function vscodeProxySettings(env: NodeJS.ProcessEnv = process.env): ProxySettings | undefined {
  const http = vscode.workspace.getConfiguration('http');
  const url = http.get<string>('proxy')?.trim();
  const noProxy = http.get<string[]>('noProxy');
  const strictSSL = http.get<boolean>('proxyStrictSSL');
  if (url) return proxyFromUrl(url, { noProxy: Array.isArray(noProxy) ? noProxy : undefined, strictSSL: strictSSL !== false });
  const fromEnv = proxyFromEnvironment(env);
  return fromEnv ? { ...fromEnv, strictSSL: strictSSL !== false } : undefined;
}
