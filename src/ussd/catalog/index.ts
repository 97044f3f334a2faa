import { type Catalog, en } from "./en";
import { ss } from "./ss";

export type { Catalog };
export type Language = "en" | "ss";

/** One catalog per language; the menu picks one per session from the phone's remembered choice. */
export const catalogs: Record<Language, Catalog> = { en, ss };

export const LANGUAGES: Language[] = ["en", "ss"];
