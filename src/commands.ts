/** Imports each domain's CLI commands so they register with src/cli.ts. */
import "./identity/cli";
import "./seed";
import "./jobs/cli";
