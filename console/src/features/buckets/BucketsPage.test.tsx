import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getSession, setSession } from "../../api/session";
import type { Bucket } from "../../api/types";
import { renderRoutes } from "../../test/render";
import BucketsPage from "./BucketsPage";
import { bucketNameProblem } from "./CreateBucketDialog";

const server = setupServer();
let buckets: Bucket[] = [];
let created: unknown[] = [];
let deleted: string[] = [];

function bucket(name: string, size: number, objects: number): Bucket {
  return {
    name,
    created_at: "2026-01-02T03:04:05Z",
    tenant_id: null,
    tenant_name: null,
    owner_id: null,
    owner: null,
    object_count: objects,
    size,
  };
}

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
beforeEach(() => {
  buckets = [];
  created = [];
  deleted = [];
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/buckets", ({ request }) => {
      if (request.headers.get("authorization") !== "Bearer tok") {
        return HttpResponse.json(
          { error: { code: "Unauthorized", message: "no" } },
          { status: 401 },
        );
      }
      return HttpResponse.json({ buckets, total: buckets.length });
    }),
    http.post("*/api/v1/buckets", async ({ request }) => {
      const body = (await request.json()) as { name: string };
      created.push(body);
      if (buckets.some((existing) => existing.name === body.name)) {
        return HttpResponse.json(
          { error: { code: "BucketAlreadyExists", message: "the bucket exists" } },
          { status: 409, headers: { "x-request-id": "abc123" } },
        );
      }
      buckets.push(bucket(body.name, 0, 0));
      return HttpResponse.json(bucket(body.name, 0, 0), { status: 201 });
    }),
    http.delete("*/api/v1/buckets/:name", ({ params }) => {
      deleted.push(String(params.name));
      buckets = buckets.filter((existing) => existing.name !== params.name);
      return HttpResponse.json({ deleted: params.name });
    }),
  );
});
afterEach(() => server.resetHandlers());

function renderPage() {
  return renderRoutes(
    [
      { path: "/buckets", element: <BucketsPage /> },
      { path: "/buckets/:bucket", element: <p>settings page</p> },
    ],
    "/buckets",
  );
}

describe("buckets page", () => {
  it("lists buckets with their usage, sorted by name", async () => {
    buckets = [bucket("zeta", 3 * 1024 * 1024, 12), bucket("alpha", 512, 1)];
    renderPage();
    const table = await screen.findByRole("table", { name: "Buckets" });
    const rows = within(table).getAllByRole("row");
    expect(rows[1]).toHaveTextContent("alpha");
    expect(rows[1]).toHaveTextContent("512 B");
    expect(rows[2]).toHaveTextContent("zeta");
    expect(rows[2]).toHaveTextContent("3.0 MiB");
    expect(rows[2]).toHaveTextContent("12");
  });

  it("shows an empty state with a next step when there is no bucket", async () => {
    renderPage();
    expect(await screen.findByText("No buckets yet")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Create your first bucket" })).toBeInTheDocument();
  });

  it("creates a bucket with versioning and lists it", async () => {
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("button", { name: "Create bucket" }));
    const dialog = await screen.findByRole("dialog", { name: "Create bucket" });
    await user.type(within(dialog).getByLabelText("Name"), "photos");
    await user.click(within(dialog).getByRole("switch", { name: "Versioning" }));
    await user.click(within(dialog).getByRole("button", { name: "Create bucket" }));
    expect(await screen.findByRole("link", { name: "photos" })).toBeInTheDocument();
    expect(created).toEqual([{ name: "photos", versioning: { status: "Enabled" } }]);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });

  it("sends Object Lock with versioning and the default retention", async () => {
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("button", { name: "Create bucket" }));
    const dialog = await screen.findByRole("dialog", { name: "Create bucket" });
    await user.type(within(dialog).getByLabelText("Name"), "vault");
    await user.click(within(dialog).getByRole("switch", { name: /Object Lock/ }));
    await user.selectOptions(within(dialog).getByLabelText("Default retention"), "COMPLIANCE");
    await user.clear(within(dialog).getByLabelText("Days"));
    await user.type(within(dialog).getByLabelText("Days"), "7");
    await user.click(within(dialog).getByRole("button", { name: "Create bucket" }));
    await screen.findByRole("link", { name: "vault" });
    expect(created).toEqual([
      {
        name: "vault",
        versioning: { status: "Enabled" },
        objectLock: { enabled: true, mode: "COMPLIANCE", days: 7, years: null },
      },
    ]);
  });

  it("shows the server's error and request id in a toast", async () => {
    buckets = [bucket("photos", 0, 0)];
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("button", { name: "Create bucket" }));
    const dialog = await screen.findByRole("dialog", { name: "Create bucket" });
    await user.type(within(dialog).getByLabelText("Name"), "photos");
    await user.click(within(dialog).getByRole("button", { name: "Create bucket" }));
    const toast = await screen.findByTestId("toast-error");
    expect(toast).toHaveTextContent("BucketAlreadyExists");
    expect(toast).toHaveTextContent("the bucket exists");
    expect(toast).toHaveTextContent("abc123");
  });

  it("deletes a bucket only after confirmation", async () => {
    buckets = [bucket("old", 0, 0)];
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("button", { name: "Delete bucket old" }));
    const confirm = await screen.findByRole("alertdialog");
    expect(deleted).toEqual([]);
    await user.click(within(confirm).getByRole("button", { name: "Delete bucket" }));
    expect(await screen.findByText("No buckets yet")).toBeInTheDocument();
    expect(deleted).toEqual(["old"]);
  });

  it("rejects names S3 would refuse before asking the server", () => {
    expect(bucketNameProblem("ok-name")).toBeNull();
    expect(bucketNameProblem("Upper")).not.toBeNull();
    expect(bucketNameProblem("a..b")).not.toBeNull();
    expect(bucketNameProblem("192.168.1.1")).not.toBeNull();
  });

  it("ends the session on a 401", async () => {
    setSession({ token: "expired", expiresAt: null, user: null });
    renderPage();
    await waitFor(() => expect(getSession()).toBeNull());
  });
});
