/** What other domains may use of compliance: the rest of the folder is its own business. */

export type { SanctionsMatch } from "./sanctions-matches";
export type { ScreenContext, ScreenMatch, ScreenName, ScreenResult } from "./sanctions-screening";
export type { Sanctions } from "./sanctions-service";
export type { SanctionsSubject, SubjectType } from "./sanctions-subjects";
