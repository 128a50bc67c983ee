import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getSession, setSession } from "../../api/session";
import { renderRoutes } from "../../test/render";
import LoginPage from "./LoginPage";

const USER = { id: "u1", username: "alice", tenant_id: null, role: "user", status: "active" };
const server = setupServer();
let verified: { temp_token: string; code: string }[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  verified = [];
  setSession(null);
});

function twoFactorAccount() {
  server.use(
    http.post("*/api/v1/auth/login", async ({ request }) => {
      const body = (await request.json()) as { username: string; password: string };
      if (body.username !== "alice" || body.password !== "Correct-Horse-9") {
        return HttpResponse.json(
          { error: { code: "InvalidCredentials", message: "invalid user name or password" } },
          { status: 401, headers: { "x-request-id": "req-login-1" } },
        );
      }
      return HttpResponse.json({ requires_2fa: true, temp_token: "temp-1", expires_in: 300 });
    }),
    http.post("*/api/v1/auth/2fa/verify", async ({ request }) => {
      const body = (await request.json()) as { temp_token: string; code: string };
      verified.push(body);
      if (body.code === "123456" || body.code === "backup-code-0001") {
        return HttpResponse.json({
          token: "session-token",
          expires_at: "2099-01-01T00:00:00Z",
          user: USER,
        });
      }
      return HttpResponse.json(
        { error: { code: "InvalidCode", message: "invalid or used code" } },
        { status: 401, headers: { "x-request-id": "req-9" } },
      );
    }),
  );
}

function renderLogin() {
  return renderRoutes(
    [
      { path: "/login", element: <LoginPage /> },
      { path: "/", element: <p>dashboard here</p> },
    ],
    "/login",
  );
}

async function passwordStep(
  user: ReturnType<typeof userEvent.setup>,
  password = "Correct-Horse-9",
) {
  await user.type(screen.getByLabelText("User name or access key"), "alice");
  await user.type(screen.getByLabelText("Password or secret key"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("login", () => {
  it("asks for the TOTP code when the API requires it, then starts the session", async () => {
    twoFactorAccount();
    const user = userEvent.setup();
    renderLogin();
    await passwordStep(user);
    const code = await screen.findByLabelText("Authentication code");
    expect(getSession()).toBeNull();
    await user.type(code, "123456");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("dashboard here")).toBeInTheDocument();
    expect(verified).toEqual([{ temp_token: "temp-1", code: "123456" }]);
    expect(getSession()?.token).toBe("session-token");
    expect(getSession()?.user?.username).toBe("alice");
  });

  it("accepts a backup code instead of the TOTP code", async () => {
    twoFactorAccount();
    const user = userEvent.setup();
    renderLogin();
    await passwordStep(user);
    await user.click(await screen.findByRole("button", { name: "Use a backup code" }));
    await user.type(screen.getByLabelText("Backup code"), "backup-code-0001");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("dashboard here")).toBeInTheDocument();
    expect(verified.at(-1)?.code).toBe("backup-code-0001");
  });

  it("shows the server's message and request id for a wrong code, stays logged out", async () => {
    twoFactorAccount();
    const user = userEvent.setup();
    renderLogin();
    await passwordStep(user);
    await user.type(await screen.findByLabelText("Authentication code"), "000000");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("invalid or used code");
    expect(alert).toHaveTextContent("req-9");
    expect(getSession()).toBeNull();
  });

  it("shows a wrong password's error with its request id", async () => {
    twoFactorAccount();
    const user = userEvent.setup();
    renderLogin();
    await passwordStep(user, "wrong");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("invalid user name or password");
    expect(alert).toHaveTextContent("req-login-1");
    await waitFor(() => expect(screen.queryByLabelText("Authentication code")).toBeNull());
  });

  it("starts the session at once for an account without 2FA", async () => {
    server.use(
      http.post("*/api/v1/auth/login", () =>
        HttpResponse.json({ token: "t2", expires_at: "2099-01-01T00:00:00Z", user: USER }),
      ),
    );
    const user = userEvent.setup();
    renderLogin();
    await passwordStep(user);
    expect(await screen.findByText("dashboard here")).toBeInTheDocument();
    expect(getSession()?.token).toBe("t2");
  });
});
