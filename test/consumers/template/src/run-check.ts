/**
 * Runs a check script's `main` and sets the exit code from its verdict. Everything is closed by
 * then, so node should exit by itself: if it has not 5 s later, something was left open (`what`
 * names what the check closed) and the check fails.
 */
export function runCheck(main: () => Promise<boolean>, what: string): void {
  main().then(
    (ok) => {
      process.exitCode = ok ? 0 : 1;
      setTimeout(() => {
        console.error(`still running 5 s after closing ${what}: an open handle`);
        process.exit(1);
      }, 5000).unref();
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
