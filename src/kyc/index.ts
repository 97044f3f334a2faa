/** What other domains may use of KYC: the service its module builds (the seed drives it as a user would). */
export type { Kyc } from "./service";
