#!/usr/bin/env node
import { Command, Option } from 'commander';
import { VERSION } from '../server/version';
import { cliEnv, EXIT, isReadableFile, loadOrExit, routesFile } from './context';
import { diffAgainst, diffFiles, fetchRunningConfig } from './diff';
import { explain } from './explain';
import { lintFiles, LintFormat } from './lint';
import { openApiText } from './openapi';
import { printConfig } from './print-config';
import { startGateway } from './start';

// Not `--env-file`: Node 20 takes that flag for itself even after the script name (it loads the
// file into process.env, and exits 9 when it is missing), which would bypass this option.
const ENV_FROM_HELP = 'read variables from this file instead of .env (the real environment still wins), e.g. .env.example to lint without secrets';

const program = new Command();
program
  .name('tracseq-gateway')
  .description('TracSeq API Gateway: serve, lint and explain routes.yaml')
  .version(VERSION)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

program
  .command('start', { isDefault: true })
  .description('serve the gateway (refuses to start on an invalid config)')
  .option('-c, --config <file>', 'routes file (default: $ROUTES_FILE or routes.yaml)')
  .option('-e, --env-from <file>', ENV_FROM_HELP)
  .action(async (opts: { config?: string; envFrom?: string }) => {
    await startGateway(opts.config, opts.envFrom);
  });

program
  .command('lint')
  .description('check routes files (the file; `start` checks the environment); exit 0 valid, 1 invalid, 2 unreadable or bad usage')
  .argument('[files...]', 'files to check (default: $ROUTES_FILE or routes.yaml)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
  .option('-e, --env-from <file>', ENV_FROM_HELP)
  .option('--strict', 'the environment is the one the gateway runs with: a secret it does not set is an error (as for start), not a warning')
  .action((files: string[], opts: { format: LintFormat; envFrom?: string; strict?: boolean }) => {
    if (opts.format === 'json' && opts.envFrom !== undefined && !isReadableFile(opts.envFrom)) {
      // Tools reading --format json get JSON for exit 2 too, never an empty output.
      process.stdout.write(`${JSON.stringify({ valid: false, files: [], error: `${opts.envFrom}: cannot read the env file` }, null, 2)}\n`);
    }
    const env = cliEnv(opts.envFrom);
    const out = lintFiles(files.length ? files : [routesFile(undefined, env)], opts.format, env, { strict: opts.strict === true });
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  });

program
  .command('print-config')
  .description('print the fully resolved config (defaults merged, environment applied, secrets masked)')
  .option('-c, --config <file>', 'routes file')
  .option('-e, --env-from <file>', ENV_FROM_HELP)
  .action((opts: { config?: string; envFrom?: string }) => {
    const env = cliEnv(opts.envFrom);
    process.stdout.write(printConfig(loadOrExit(routesFile(opts.config, env), env)));
  });

program
  .command('diff')
  .description('what changes between two routes files, or between a running gateway and a file; exit 0 none, 1 some, 2 trouble')
  .argument('<files...>', 'OLD NEW, or with --running just NEW')
  .option('-r, --running <url>', 'compare the config running at this gateway URL (needs ADMIN_TOKEN)')
  .option('-e, --env-from <file>', `with --running: ${ENV_FROM_HELP} (two files are compared as written, without the environment)`)
  .action(async (files: string[], opts: { running?: string; envFrom?: string }) => {
    const env = cliEnv(opts.envFrom);
    let out;
    if (opts.running) {
      if (files.length !== 1 || !env.ADMIN_TOKEN) {
        process.stderr.write('usage: diff --running URL NEW (with ADMIN_TOKEN set)\n');
        process.exitCode = EXIT.usage;
        return;
      }
      out = diffAgainst(await fetchRunningConfig(opts.running, env.ADMIN_TOKEN), files[0], env);
    } else {
      if (files.length !== 2) {
        process.stderr.write('usage: diff OLD NEW\n');
        process.exitCode = EXIT.usage;
        return;
      }
      out = diffFiles(files[0], files[1]);
    }
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  });

program
  .command('explain')
  .description('show which route a request matches, the stages it runs and its upstream URLs')
  .argument('<method>', 'HTTP method, e.g. GET')
  .argument('<path>', 'request path with optional query, e.g. /samples/list?page=2')
  .option('-c, --config <file>', 'routes file to try (default: $ROUTES_FILE or routes.yaml)')
  .option('-H, --host <host>', 'Host header of the request')
  .option('-e, --env-from <file>', ENV_FROM_HELP)
  .action(async (method: string, path: string, opts: { config?: string; host?: string; envFrom?: string }) => {
    const env = cliEnv(opts.envFrom);
    const config = loadOrExit(routesFile(opts.config, env), env);
    const result = await explain(config, method, path, opts.host);
    process.stdout.write(result.text);
    process.exitCode = result.matched ? EXIT.ok : EXIT.invalid;
  });

program
  .command('openapi')
  .description('print the OpenAPI 3.1 document of the routes (what GET /docs/openapi.json serves)')
  .option('-c, --config <file>', 'routes file (default: $ROUTES_FILE or routes.yaml)')
  .option('-e, --env-from <file>', ENV_FROM_HELP)
  .action((opts: { config?: string; envFrom?: string }) => {
    const env = cliEnv(opts.envFrom);
    const file = routesFile(opts.config, env);
    process.stdout.write(openApiText(loadOrExit(file, env), file));
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(EXIT.usage);
});
