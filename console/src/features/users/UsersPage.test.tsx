import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSession } from "../../api/session";
import type { AccessKey } from "../../api/types";
import { renderRoutes } from "../../test/render";
import UsersPage from "./UsersPage";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const server = setupServer();
let keys: AccessKey[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  keys = [];
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/users", () =>
      HttpResponse.json({
        users: [{ id: "u1", username: "alice", tenant_id: null, role: "user", status: "active" }],
        total: 1,
      }),
    ),
    http.get("*/api/v1/access-keys", () => HttpResponse.json({ access_keys: keys, total: 1 })),
    http.post("*/api/v1/users/u1/access-keys", () => {
      const key = {
        access_key_id: "MXEXAMPLEKEY0000",
        user_id: "u1",
        username: "alice",
        status: "active",
        created_at: "2026-12-07T00:00:00Z",
      };
      keys.push(key);
      return HttpResponse.json({ ...key, secret_access_key: SECRET }, { status: 201 });
    }),
  );
});

describe("users and access keys", () => {
  it("shows a new key's secret once, with a copy button", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/users", element: <UsersPage /> }], "/users");
    await user.click(await screen.findByRole("button", { name: "Create access key for alice" }));
    const dialog = await screen.findByRole("dialog", { name: "Access key created" });
    expect(within(dialog).getByTestId("new-secret-key")).toHaveTextContent(SECRET);
    await user.click(within(dialog).getAllByRole("button", { name: "Copy" })[1]!);
    expect(await navigator.clipboard.readText()).toBe(SECRET);
    await user.click(within(dialog).getByRole("button", { name: "I have saved the secret" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    // Listed from now on, but the secret is gone for good.
    const table = await screen.findByRole("table", { name: "Access keys" });
    expect(within(table).getByText("MXEXAMPLEKEY0000")).toBeInTheDocument();
    expect(screen.queryByText(SECRET)).toBeNull();
  });
});
