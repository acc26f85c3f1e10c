// Standalone fake Kiro upstream, for end-to-end tests that run the bridge in another process (a
// real VS Code). Usage:
//
//   npx tsx test/support/fake-upstream-main.ts [--port N] [--idc] [--no-validate]
//       [--reply TEXT | --echo | --scenario FILE.json] [--frame-delay-ms N]
//
// Prints two lines on stdout, then serves until SIGTERM/SIGINT:
//   FAKE_KIRO_BASE_URL=http://127.0.0.1:PORT
//   KIRO_AUTH_TOKEN=[{"auth":"Social","refreshToken":"aor…"}]
// One line per request received goes to stderr.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startFakeUpstream, textReply, type Scenario, type ScenarioSource } from './fake-upstream';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    idc: { type: 'boolean', default: false },
    'no-validate': { type: 'boolean', default: false },
    reply: { type: 'string' },
    echo: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    'frame-delay-ms': { type: 'string' },
  },
  strict: true,
});

const frameDelayMs = values['frame-delay-ms'] ? Number(values['frame-delay-ms']) : undefined;
const paced = (scenario: Scenario): Scenario => (frameDelayMs ? { ...scenario, frameDelayMs } : scenario);

let reply: ScenarioSource | undefined;
if (values.scenario) reply = paced(JSON.parse(readFileSync(values.scenario, 'utf8')) as Scenario);
else if (values.echo) {
  reply = ({ body }) => {
    const content = body.conversationState?.currentMessage?.userInputMessage?.content;
    return paced(textReply(`You said: ${typeof content === 'string' ? content : ''}`, { chunks: 4, metering: 0.01, contextUsage: 1.5 }));
  };
} else if (values.reply !== undefined) reply = paced(textReply(values.reply, { chunks: 4 }));
else if (frameDelayMs) reply = paced(textReply('Hello from the fake Kiro upstream.', { chunks: 6 }));

async function main(): Promise<void> {
  const upstream = await startFakeUpstream({
    port: values.port ? Number(values.port) : 0,
    validate: !values['no-validate'],
    accounts: [{ kind: values.idc ? 'idc' : 'social' }],
    ...(reply ? { defaultReply: reply } : {}),
  });
  process.stdout.write(`FAKE_KIRO_BASE_URL=${upstream.baseUrl}\nKIRO_AUTH_TOKEN=${upstream.kiroAuthToken()}\n`);

  // One line per finished request (paths and outcomes only: tokens are never printed).
  upstream.onSettled((r) => {
    process.stderr.write(`fake-kiro #${r.seq} ${r.method} ${r.path} ${r.status ?? '-'} ${r.outcome}${r.rejectedBy ? ` ${r.rejectedBy}` : ''}\n`);
  });

  const stop = async () => {
    await upstream.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`fake upstream failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
