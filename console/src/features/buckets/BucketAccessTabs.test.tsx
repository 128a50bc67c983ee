import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSession } from "../../api/session";
import type { CorsRule } from "../../api/types";
import { renderRoutes } from "../../test/render";
import { CorsTab, PolicyTab } from "./BucketAccessTabs";
import { corsProblem, NEW_CORS_DRAFT, tagsProblem } from "./bucketRules";

const server = setupServer();
let rules: CorsRule[] = [];
let sent: unknown[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  rules = [];
  sent = [];
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/buckets/photos/cors", () => HttpResponse.json({ rules })),
    http.put("*/api/v1/buckets/photos/cors", async ({ request }) => {
      const body = (await request.json()) as { rules: CorsRule[] };
      sent.push(body);
      rules = body.rules;
      return HttpResponse.json(body);
    }),
    http.get("*/api/v1/buckets/photos/policy", () => HttpResponse.json({ policy: null })),
    http.put("*/api/v1/buckets/photos/policy", () =>
      HttpResponse.json(
        { error: { code: "MalformedPolicy", message: "Policy has invalid resource" } },
        { status: 400 },
      ),
    ),
  );
});

describe("bucket rules", () => {
  it("are checked as the S3 port checks them", () => {
    expect(corsProblem(NEW_CORS_DRAFT)).toMatch(/at least one origin/);
    const draft = { ...NEW_CORS_DRAFT, origins: "https://*.*.example.com" };
    expect(corsProblem(draft)).toMatch(/more than one \*/);
    expect(
      corsProblem({ ...draft, origins: "https://*.example.com", exposeHeaders: "x-*" }),
    ).toMatch(/cannot hold a \*/);
    expect(corsProblem({ ...draft, origins: "*", methods: [] })).toMatch(/at least one method/);
    expect(tagsProblem([{ key: "aws:x", value: "" }])).toMatch(/reserved/);
    expect(
      tagsProblem([
        { key: "a", value: "1" },
        { key: "a", value: "2" },
      ]),
    ).toMatch(/twice/);
    expect(tagsProblem([{ key: "team", value: "photos" }])).toBeUndefined();
  });
});

describe("CORS tab", () => {
  it("edits a rule visually and saves what S3 would accept", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/b", element: <CorsTab bucket="photos" /> }], "/b");
    await user.click(await screen.findByRole("button", { name: "Add CORS rule" }));
    const rule = screen.getByRole("group", { name: "CORS rule 1" });
    expect(within(rule).getByRole("alert")).toHaveTextContent(/at least one origin/);
    expect(screen.getByRole("button", { name: "Save CORS" })).toBeDisabled();
    await user.type(within(rule).getByLabelText("Allowed origins"), "https://app.example.com");
    await user.click(within(rule).getByRole("checkbox", { name: "PUT" }));
    await user.type(within(rule).getByLabelText("Max age (seconds)"), "600");
    await user.click(screen.getByRole("button", { name: "Save CORS" }));
    await waitFor(() =>
      expect(sent).toEqual([
        {
          rules: [
            {
              allowedOrigins: ["https://app.example.com"],
              allowedMethods: ["GET", "PUT"],
              allowedHeaders: [],
              exposeHeaders: [],
              maxAgeSeconds: 600,
            },
          ],
        },
      ]),
    );
  });
});

describe("policy tab", () => {
  it("shows the server's MalformedPolicy reason under the document", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/b", element: <PolicyTab bucket="photos" /> }], "/b");
    const document = await screen.findByLabelText("Bucket policy (JSON)");
    expect((document as HTMLTextAreaElement).value).toContain("arn:aws:s3:::photos/*");
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    expect(await screen.findByText("Policy has invalid resource")).toBeInTheDocument();
    expect(document).toHaveAttribute("aria-invalid", "true");
  });
});
