import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSession } from "../../api/session";
import type { Setting } from "../../api/types";
import { renderRoutes } from "../../test/render";
import SettingsPage from "./SettingsPage";

const server = setupServer();
let sent: unknown[] = [];

function setting(key: string, value: number | boolean, extra: Partial<Setting> = {}): Setting {
  return {
    key,
    value,
    default: value,
    type: typeof value === "boolean" ? "bool" : "int",
    category: key.split(".")[0]!,
    description: `about ${key}`,
    updated_at: null,
    updated_by: null,
    ...extra,
  };
}

const settings = [
  setting("security.max_failed_attempts", 5, { min: 1, max: 1000 }),
  setting("security.ratelimit_enabled", true),
  setting("audit.retention_days", 90, { min: 1, max: 3650 }),
];

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  sent = [];
  setSession({
    token: "tok",
    expiresAt: null,
    user: { id: "root", username: "root", tenant_id: null, role: "global_admin", status: "active" },
  });
  server.use(
    http.get("*/api/v1/settings", () => HttpResponse.json({ settings, total: settings.length })),
    http.post("*/api/v1/settings/bulk", async ({ request }) => {
      const body = (await request.json()) as { settings: Record<string, unknown> };
      sent.push(body.settings);
      if (body.settings["security.ratelimit_enabled"] === false) {
        return HttpResponse.json(
          {
            error: {
              code: "BadRequest",
              message: '{"security.max_failed_attempts":"refused by the server"}',
            },
          },
          { status: 400 },
        );
      }
      return HttpResponse.json({ updated: Object.keys(body.settings) });
    }),
  );
});

describe("settings page", () => {
  it("checks bounds before saving and sends only what changed", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/settings", element: <SettingsPage /> }], "/settings");
    expect(await screen.findByRole("tab", { name: "security" })).toHaveAttribute(
      "aria-selected",
      "true",
    );
    const attempts = screen.getByLabelText("Max failed attempts");
    await user.clear(attempts);
    await user.type(attempts, "0");
    expect(screen.getByText("At least 1")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Save changes" })).toBeDisabled();
    await user.clear(attempts);
    await user.type(attempts, "7");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(sent).toEqual([{ "security.max_failed_attempts": 7 }]));
  });

  it("shows a refusal beside the field the server names", async () => {
    const user = userEvent.setup();
    renderRoutes([{ path: "/settings", element: <SettingsPage /> }], "/settings");
    await user.click(await screen.findByRole("switch", { name: "Ratelimit enabled" }));
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("refused by the server")).toBeInTheDocument();
    expect(screen.getByLabelText("Max failed attempts")).toHaveAttribute("aria-invalid", "true");
  });
});
