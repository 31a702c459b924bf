#!/usr/bin/env node
import { Command, Option } from 'commander';
import { VERSION } from '../server/version';
import { cliEnv, EXIT, loadOrExit, routesFile } from './context';
import { explain } from './explain';
import { lintFiles, LintFormat } from './lint';
import { printConfig } from './print-config';
import { startGateway } from './start';

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
  .action(async (opts: { config?: string }) => {
    await startGateway(opts.config);
  });

program
  .command('lint')
  .description('check routes files; exit 0 valid, 1 invalid, 2 unreadable or bad usage')
  .argument('[files...]', 'files to check (default: $ROUTES_FILE or routes.yaml)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
  .action((files: string[], opts: { format: LintFormat }) => {
    const env = cliEnv();
    const out = lintFiles(files.length ? files : [routesFile(undefined, env)], opts.format, env);
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  });

program
  .command('print-config')
  .description('print the fully resolved config (defaults merged, environment applied, secrets masked)')
  .option('-c, --config <file>', 'routes file')
  .action((opts: { config?: string }) => {
    const env = cliEnv();
    process.stdout.write(printConfig(loadOrExit(routesFile(opts.config, env), env)));
  });

program
  .command('explain')
  .description('show which route a request matches, the stages it runs and its upstream URLs')
  .argument('<method>', 'HTTP method, e.g. GET')
  .argument('<path>', 'request path with optional query, e.g. /samples/list?page=2')
  .option('-c, --config <file>', 'routes file to try (default: $ROUTES_FILE or routes.yaml)')
  .option('-H, --host <host>', 'Host header of the request')
  .action(async (method: string, path: string, opts: { config?: string; host?: string }) => {
    const env = cliEnv();
    const config = loadOrExit(routesFile(opts.config, env), env);
    const result = await explain(config, method, path, opts.host);
    process.stdout.write(result.text);
    process.exitCode = result.matched ? EXIT.ok : EXIT.invalid;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(EXIT.usage);
});
