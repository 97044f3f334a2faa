/** What other domains may use of the jobs module: whether a job has run lately (for their loops' `due`). */
export { succeededWithin } from "./recent-runs";
