import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSession } from "../../api/session";
import type { Group, Policy } from "../../api/types";
import { renderRoutes } from "../../test/render";
import GroupsPage from "./GroupsPage";
import PoliciesPage from "./PoliciesPage";
import { checkPolicy } from "./policyDocument";

const server = setupServer();
let policies: Policy[] = [];
let group: Group;
let calls: string[] = [];

const readonly: Policy = {
  id: "readonly",
  name: "readonly",
  builtin: true,
  tenant_id: null,
  description: "Read and list",
  document: '{"Version":"2012-10-17","Statement":[]}',
};

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  calls = [];
  policies = [readonly];
  group = { id: "group-1", name: "ops", tenant_id: null, members: [], policies: [] };
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/policies", () => HttpResponse.json({ policies, total: policies.length })),
    http.post("*/api/v1/policies", async ({ request }) => {
      const body = (await request.json()) as { name: string; document: string };
      if (body.document.includes("s3:Nothing")) {
        return HttpResponse.json(
          {
            error: {
              code: "MalformedPolicyDocument",
              message: "Policy has invalid action",
            },
          },
          { status: 400, headers: { "x-request-id": "rid1" } },
        );
      }
      const policy = { ...readonly, ...body, id: "policy-1", builtin: false, description: null };
      policies = [...policies, policy];
      return HttpResponse.json(policy, { status: 201 });
    }),
    http.get("*/api/v1/groups", () => HttpResponse.json({ groups: [group], total: 1 })),
    http.get("*/api/v1/users", () =>
      HttpResponse.json({ users: [{ id: "u1", username: "ann", tenant_id: null }] }),
    ),
    http.put("*/api/v1/groups/:group/:what/:id", ({ params }) => {
      calls.push(`PUT ${String(params.what)} ${String(params.id)}`);
      if (params.what === "policies") {
        group = { ...group, policies: [{ id: "readonly", name: "readonly", builtin: true }] };
      } else {
        group = { ...group, members: [{ id: "u1", username: "ann" }] };
      }
      return HttpResponse.json(group);
    }),
  );
});

describe("policy documents", () => {
  it("are checked before they are sent", () => {
    expect(checkPolicy("{").ok).toBe(false);
    expect(checkPolicy("[]")).toEqual({ ok: false, error: "The document must be a JSON object" });
    expect(checkPolicy('{"Statement":[{"Effect":"Maybe"}]}')).toEqual({
      ok: false,
      error: 'Statement 1: Effect must be "Allow" or "Deny"',
    });
    const good =
      '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}';
    expect(checkPolicy(good)).toEqual({ ok: true });
  });
});

describe("policies page", () => {
  it("shows the server's MalformedPolicyDocument reason, then creates the policy", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/policies", element: <PoliciesPage /> }], "/policies");
    await user.click(await screen.findByRole("button", { name: "New policy" }));
    const dialog = await screen.findByRole("dialog", { name: "New policy" });
    const document = within(dialog).getByLabelText("Policy document (JSON)");
    await user.type(within(dialog).getByLabelText("Name"), "logs-read");
    const write = async (text: string) => {
      await user.clear(document);
      await user.click(document);
      await user.paste(text);
    };
    await write("{");
    expect(within(dialog).getByText(/^Not JSON/)).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Create policy" })).toBeDisabled();
    await write('{"Statement":[{"Effect":"Allow","Action":"s3:Nothing","Resource":"*"}]}');
    await user.click(within(dialog).getByRole("button", { name: "Create policy" }));
    expect(await within(dialog).findByText("Policy has invalid action")).toBeInTheDocument();
    expect(document).toHaveAttribute("aria-invalid", "true");
    await write('{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}');
    await user.click(within(dialog).getByRole("button", { name: "Create policy" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const table = await screen.findByRole("table", { name: "Policies" });
    expect(await within(table).findByText("logs-read")).toBeInTheDocument();
  });
});

describe("groups page", () => {
  it("adds a member and attaches a policy", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/groups", element: <GroupsPage /> }], "/groups");
    await user.selectOptions(await screen.findByLabelText("User to add to ops"), "u1");
    await user.click(screen.getByRole("button", { name: "Add member" }));
    await user.selectOptions(screen.getByLabelText("Policy to attach to ops"), "readonly");
    await user.click(screen.getByRole("button", { name: "Attach policy" }));
    const card = screen.getByTestId("group-ops");
    expect(await within(card).findByRole("button", { name: "Remove readonly" })).toBeVisible();
    expect(within(card).getByRole("button", { name: "Remove ann" })).toBeVisible();
    expect(calls).toEqual(["PUT members u1", "PUT policies readonly"]);
  });
});
