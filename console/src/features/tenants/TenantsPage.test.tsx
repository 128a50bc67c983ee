import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSession } from "../../api/session";
import type { Tenant, TenantRequest } from "../../api/types";
import { renderRoutes } from "../../test/render";
import { fieldsOf, tenantRequest } from "./tenantForm";
import TenantsPage from "./TenantsPage";

const GIB = 1024 ** 3;
const server = setupServer();
let tenants: Tenant[] = [];
let sent: TenantRequest[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  sent = [];
  tenants = [
    {
      id: "tenant-1",
      name: "acme",
      display_name: "Acme",
      status: "active",
      max_storage_bytes: 10 * GIB,
      max_buckets: 4,
      max_access_keys: null,
    },
  ];
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/tenants", () => HttpResponse.json({ tenants, total: tenants.length })),
    http.post("*/api/v1/tenants", async ({ request }) => {
      const body = (await request.json()) as TenantRequest;
      sent.push(body);
      const tenant = { ...body, id: "tenant-2", name: body.name!, status: "active" };
      tenants = [...tenants, tenant];
      return HttpResponse.json(tenant, { status: 201 });
    }),
    http.get("*/api/v1/buckets", () =>
      HttpResponse.json({
        buckets: [
          { name: "a", tenant_id: "tenant-1", size: 5 * GIB, object_count: 3 },
          { name: "b", tenant_id: "tenant-1", size: 4 * GIB, object_count: 1 },
          { name: "c", tenant_id: null, size: GIB, object_count: 1 },
        ],
        total: 3,
      }),
    ),
    http.get("*/api/v1/users", () =>
      HttpResponse.json({ users: [{ id: "u1", username: "ann", tenant_id: "tenant-1" }] }),
    ),
    http.get("*/api/v1/access-keys", () =>
      HttpResponse.json({ access_keys: [{ access_key_id: "K1", user_id: "u1" }] }),
    ),
  );
});

describe("tenant form", () => {
  it("checks names and quotas and turns GiB into bytes", () => {
    const fields = { ...fieldsOf(null), name: "Bad_Name", maxBuckets: "1.5", storageGiB: "-1" };
    const refused = tenantRequest(fields, true);
    expect(Object.keys(refused.errors ?? {}).sort()).toEqual(["maxBuckets", "name", "storageGiB"]);
    expect(tenantRequest({ ...fields, name: "tenant-x" }, true).errors?.name).toBeTruthy();
    const ok = tenantRequest({ ...fieldsOf(null), name: "acme", storageGiB: "1.5" }, true);
    expect(ok.body).toEqual({
      name: "acme",
      display_name: "acme",
      status: "active",
      max_storage_bytes: 1.5 * GIB,
      max_buckets: null,
      max_access_keys: null,
    });
    // Editing keeps what was stored: 10 GiB reads back as "10".
    expect(fieldsOf(tenants[0]!).storageGiB).toBe("10");
  });
});

describe("tenants page", () => {
  it("shows usage against quotas and creates a tenant with a quota", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/tenants", element: <TenantsPage /> }], "/tenants");
    const storage = await screen.findByRole("meter", { name: "Storage of acme" });
    expect(storage).toHaveAttribute("aria-valuetext", "9.0 GiB of 10.0 GiB");
    expect(screen.getByRole("meter", { name: "Buckets of acme" })).toHaveAttribute(
      "aria-valuetext",
      "2 of 4",
    );
    await user.click(screen.getByRole("button", { name: "Create tenant" }));
    const dialog = await screen.findByRole("dialog", { name: "Create tenant" });
    await user.type(within(dialog).getByLabelText("Name"), "Beta!");
    await user.type(within(dialog).getByLabelText("Max buckets"), "x");
    await user.click(within(dialog).getByRole("button", { name: "Create tenant" }));
    expect(within(dialog).getByLabelText("Max buckets")).toHaveAttribute("aria-invalid", "true");
    expect(sent).toEqual([]);
    await user.clear(within(dialog).getByLabelText("Name"));
    await user.type(within(dialog).getByLabelText("Name"), "beta");
    await user.clear(within(dialog).getByLabelText("Max buckets"));
    await user.type(within(dialog).getByLabelText("Max buckets"), "3");
    await user.type(within(dialog).getByLabelText("Storage quota (GiB)"), "2");
    await user.click(within(dialog).getByRole("button", { name: "Create tenant" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(sent[0]).toMatchObject({ name: "beta", max_buckets: 3, max_storage_bytes: 2 * GIB });
    expect(await screen.findByRole("meter", { name: "Buckets of beta" })).toBeInTheDocument();
  });
});
