/**
 * `bun run bench [name …] [--flag=value …]`: runs the named benchmarks (all of them with no name).
 * Each bench is a module exporting `run(args)`; later benches (payments, …) register here.
 *
 *   bun run bench ledger                 # the ledger service against pgbench -N (issue 3)
 *   bun run bench ledger --duration=5    # shorter run; see bench/ledger.ts for every flag
 */

type Bench = { describe: string; load: () => Promise<{ run(args: string[]): Promise<{ ok: boolean }> }> };

const BENCHES: Record<string, Bench> = {
  ledger: { describe: "ledger.transfer transfers/s for four shapes beside pgbench -N", load: () => import("./ledger") },
  payments: {
    describe:
      "HTTP payments/s (uniform, one hot vendor, fixed-rate latency) against the server process beside pgbench -N",
    load: () => import("./payments"),
  },
  sanctions: {
    describe: "sanctions screening: one name p50/p99, and re-screening 100,000 users against the whole UN list",
    load: () => import("./sanctions"),
  },
};

async function main(argv: string[]) {
  const names = argv.filter((a) => !a.startsWith("-"));
  const flags = argv.filter((a) => a.startsWith("-"));
  if (flags.includes("--help") || flags.includes("-h")) {
    console.log("usage: bun run bench [name …] [--flag=value …]\n");
    for (const [name, bench] of Object.entries(BENCHES)) console.log(`  ${name.padEnd(10)} ${bench.describe}`);
    return 0;
  }
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    console.error(`unknown bench: ${unknown.join(", ")} (known: ${Object.keys(BENCHES).join(", ")})`);
    return 2;
  }
  let ok = true;
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const bench = await BENCHES[name]!.load();
    const result = await bench.run(flags);
    ok &&= result.ok;
  }
  return ok ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));

export {};
