/** What other domains may use of reports: the rest of the folder is its own business. */

export { REPORT_TYPES, type ReportType } from "./build";
export { type Reports, reportObjectKey } from "./service";
