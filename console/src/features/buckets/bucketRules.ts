// The CORS and tag editors' drafts, checked with the S3 port's rules before sending (the
// server checks again and its message is shown when it refuses).
import type { BucketTag, CorsRule } from "../../api/types";

export const CORS_METHODS = ["GET", "PUT", "HEAD", "POST", "DELETE"] as const;

/** A rule as the editor holds it: lists as one entry per line. */
export interface CorsDraft {
  origins: string;
  methods: string[];
  allowedHeaders: string;
  exposeHeaders: string;
  maxAge: string;
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
const stars = (text: string) => text.split("*").length - 1;

export function draftOf(rule: CorsRule): CorsDraft {
  return {
    origins: rule.allowedOrigins.join("\n"),
    methods: rule.allowedMethods,
    allowedHeaders: rule.allowedHeaders.join("\n"),
    exposeHeaders: rule.exposeHeaders.join("\n"),
    maxAge: rule.maxAgeSeconds === undefined ? "" : String(rule.maxAgeSeconds),
  };
}

export const NEW_CORS_DRAFT: CorsDraft = {
  origins: "",
  methods: ["GET"],
  allowedHeaders: "",
  exposeHeaders: "",
  maxAge: "",
};

/** Why a rule would be refused, or undefined. */
export function corsProblem(draft: CorsDraft): string | undefined {
  const origins = lines(draft.origins);
  if (origins.length === 0) return "Name at least one origin (https://example.com, or *)";
  if (draft.methods.length === 0) return "Allow at least one method";
  const origin = origins.find((value) => stars(value) > 1);
  if (origin) return `Origin "${origin}" has more than one *`;
  const header = lines(draft.allowedHeaders).find((value) => stars(value) > 1);
  if (header) return `Allowed header "${header}" has more than one *`;
  const exposed = lines(draft.exposeHeaders).find((value) => value.includes("*"));
  if (exposed) return `Expose header "${exposed}" cannot hold a *`;
  if (draft.maxAge.trim() !== "" && !/^\d+$/.test(draft.maxAge.trim())) {
    return "Max age is a whole number of seconds";
  }
  return undefined;
}

export function ruleOf(draft: CorsDraft): CorsRule {
  const rule: CorsRule = {
    allowedOrigins: lines(draft.origins),
    allowedMethods: CORS_METHODS.filter((method) => draft.methods.includes(method)),
    allowedHeaders: lines(draft.allowedHeaders),
    exposeHeaders: lines(draft.exposeHeaders),
  };
  if (draft.maxAge.trim() !== "") rule.maxAgeSeconds = Number(draft.maxAge.trim());
  return rule;
}

/** Why a tag set would be refused (PutBucketTagging's rules), or undefined. */
/** What is wrong with a tag set (S3's rules; a bucket may have 50 tags, an object 10). */
export function tagsProblem(tags: BucketTag[], tagCountMax = 50): string | undefined {
  if (tags.length > tagCountMax) return `At most ${tagCountMax} tags`;
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key === "") return "A tag needs a key";
    if (key.length > 128) return `Key "${key.slice(0, 20)}…" is longer than 128 characters`;
    if (value.length > 256) return `The value of "${key}" is longer than 256 characters`;
    if (key.toLowerCase().startsWith("aws:")) return `Key "${key}": the aws: prefix is reserved`;
    if (seen.has(key)) return `Key "${key}" is given twice`;
    seen.add(key);
  }
  return undefined;
}
