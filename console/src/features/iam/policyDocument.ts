// A first check of a policy document in the browser, before the server's parser (which has
// the last word and whose MalformedPolicyDocument reason the editor shows): JSON syntax and
// the statement shape every IAM policy has.

export type PolicyCheck = { ok: true } | { ok: false; error: string };

const VERSIONS = ["2012-10-17", "2008-10-17"];
const ACTION_KEYS = ["Action", "NotAction"];
const RESOURCE_KEYS = ["Resource", "NotResource"];

export const POLICY_TEMPLATE = JSON.stringify(
  {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:ListBucket"],
        Resource: ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"],
      },
    ],
  },
  null,
  2,
);

function checkStatement(statement: unknown, index: number): string | null {
  const where = `Statement ${index + 1}`;
  if (typeof statement !== "object" || statement === null || Array.isArray(statement)) {
    return `${where} must be an object`;
  }
  const fields = statement as Record<string, unknown>;
  if (fields.Effect !== "Allow" && fields.Effect !== "Deny") {
    return `${where}: Effect must be "Allow" or "Deny"`;
  }
  if (!ACTION_KEYS.some((key) => key in fields)) return `${where}: Action or NotAction missing`;
  if (!RESOURCE_KEYS.some((key) => key in fields)) {
    return `${where}: Resource or NotResource missing`;
  }
  return null;
}

export function checkPolicy(text: string): PolicyCheck {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Not JSON: ${(error as Error).message}` };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { ok: false, error: "The document must be a JSON object" };
  }
  const fields = document as Record<string, unknown>;
  if (fields.Version !== undefined && !VERSIONS.includes(fields.Version as string)) {
    return { ok: false, error: `Version must be "${VERSIONS.join('" or "')}"` };
  }
  const statements = Array.isArray(fields.Statement) ? fields.Statement : [fields.Statement];
  if (fields.Statement === undefined || statements.length === 0) {
    return { ok: false, error: "Statement missing: a policy needs at least one" };
  }
  for (const [index, statement] of statements.entries()) {
    const error = checkStatement(statement, index);
    if (error) return { ok: false, error };
  }
  return { ok: true };
}

/** The document indented, or the text as it was when it is not JSON. */
export function formatPolicy(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
