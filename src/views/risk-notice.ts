// The one-time notice before the first Start: Kiro's terms are reported to disallow third-party
// clients, and accounts have been suspended after use through proxies
// (docs/kiro-protocol.md#sign-in). It is modal and says so plainly; starting is the
// acknowledgement, remembered in globalState (per machine and profile, not per workspace).
import * as vscode from 'vscode';

export const RISK_NOTICE_KEY = 'kiroBridge.riskNoticeAccepted';
/** Bump when the notice says something new that users should see again. */
export const RISK_NOTICE_VERSION = 1;
export const KIRO_TERMS_URL = 'https://kiro.dev/license/';

export function riskAccepted(state: vscode.Memento): boolean {
  return (state.get<number>(RISK_NOTICE_KEY) ?? 0) >= RISK_NOTICE_VERSION;
}

/** Shows the notice unless already accepted; resolves true when the user chose to start. */
export async function confirmRisk(state: vscode.Memento): Promise<boolean> {
  if (riskAccepted(state)) return true;
  const start = vscode.l10n.t('I Understand, Start');
  const terms = vscode.l10n.t("Read Kiro's Terms");
  // Reading the terms brings the notice back, so the choice is still the user's to make.
  for (let shown = 0; shown < 3; shown++) {
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Before you start Kiro Bridge'),
      {
        modal: true,
        detail: vscode.l10n.t(
          "Kiro Bridge lets other tools (Claude Code, Cline, SDKs…) use your Kiro account through a local API. Kiro's terms are reported to disallow third-party clients like this, and some accounts have been suspended after being used through proxies. Use it only with your own account, and only if you accept that risk. Kiro Bridge sends Kiro's documented client headers, uses one identity per account, and never creates or rotates accounts.",
        ),
      },
      start,
      terms,
    );
    if (choice === start) {
      await state.update(RISK_NOTICE_KEY, RISK_NOTICE_VERSION);
      return true;
    }
    if (choice !== terms) return false;
    await vscode.env.openExternal(vscode.Uri.parse(KIRO_TERMS_URL));
  }
  return false;
}
