// The settings form's drafts (text per key), checked against each setting's type and bounds
// before a bulk save, and the server's per-key refusals read back into field errors.
import type { Setting } from "../../api/types";

export type Drafts = Record<string, string | boolean>;
export type Value = boolean | number;

export function draftOf(setting: Setting): string | boolean {
  return setting.type === "bool" ? setting.value === true : String(setting.value);
}

/** Why `draft` is refused for `setting`, or undefined. */
export function checkDraft(setting: Setting, draft: string | boolean): string | undefined {
  if (setting.type === "bool") return typeof draft === "boolean" ? undefined : "true or false";
  const text = String(draft).trim();
  if (!/^-?\d+$/.test(text)) return "A whole number";
  const value = Number(text);
  if (setting.min !== undefined && setting.min !== null && value < setting.min) {
    return `At least ${setting.min.toLocaleString()}`;
  }
  if (setting.max !== undefined && setting.max !== null && value > setting.max) {
    return `At most ${setting.max.toLocaleString()}`;
  }
  return undefined;
}

/** The changed values of `settings` (typed for the API), or the errors per key. */
export function changes(
  settings: Setting[],
  drafts: Drafts,
): { values: Record<string, Value>; errors: Record<string, string> } {
  const values: Record<string, Value> = {};
  const errors: Record<string, string> = {};
  for (const setting of settings) {
    const draft = drafts[setting.key];
    if (draft === undefined || draft === draftOf(setting)) continue;
    const error = checkDraft(setting, draft);
    if (error) errors[setting.key] = error;
    else values[setting.key] = setting.type === "bool" ? draft === true : Number(draft);
  }
  return { values, errors };
}

/** The bulk route refuses with a message that is a JSON object of key -> reason. */
export function serverErrors(message: string): Record<string, string> | null {
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
  } catch {
    return null;
  }
}

/** "security.max_failed_attempts" -> "Max failed attempts". */
export function titleOf(key: string): string {
  const name = key.slice(key.indexOf(".") + 1).replaceAll("_", " ");
  return name.charAt(0).toUpperCase() + name.slice(1);
}
