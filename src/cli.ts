// Headless entry point over the same bridge the extension runs.
function main(argv: string[]): number {
  const [command] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write('Usage: kiro-bridge <command>\n\nCommands:\n  serve   run the bridge in the foreground\n');
    return 0;
  }
  process.stderr.write(`kiro-bridge: unknown command "${command}"\n`);
  return 1;
}

process.exitCode = main(process.argv.slice(2));
