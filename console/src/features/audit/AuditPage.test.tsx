import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSession } from "../../api/session";
import type { AuditEntry } from "../../api/types";
import { renderRoutes } from "../../test/render";
import AuditPage from "./AuditPage";

const server = setupServer();
let asked: URLSearchParams[] = [];

function entry(id: number, event: string): AuditEntry {
  return {
    id,
    timestamp: "2026-12-07T10:00:00Z",
    timestamp_ms: 0,
    source: "console",
    tenant_id: null,
    user_id: "u1",
    username: "alice",
    event_type: event,
    resource_type: "buckets",
    resource: `bucket-${id}`,
    action: "POST /api/v1/buckets",
    status: "success",
    http_status: 201,
    ip: "127.0.0.1",
    user_agent: null,
    request_id: null,
    details: null,
  };
}

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  asked = [];
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/audit-logs", ({ request }) => {
      const params = new URL(request.url).searchParams;
      asked.push(params);
      const page = Number(params.get("page"));
      const event = params.get("event_type") ?? "bucket_created";
      const logs = Array.from({ length: 3 }, (_, index) => entry(page * 10 + index, event));
      return HttpResponse.json({ logs, total: 120, page, page_size: 50 });
    }),
  );
});

describe("audit log", () => {
  it("sends the filters to the server and pages through the answer", async () => {
    const user = userEvent.setup();
    const { router } = renderRoutes([{ path: "/audit", element: <AuditPage /> }], "/audit");
    const table = await screen.findByRole("table", { name: "Audit entries" });
    expect(within(table).getByText("bucket-10")).toBeInTheDocument();
    expect(screen.getByTestId("audit-total")).toHaveTextContent("120 entries · page 1 of 3");

    await user.type(screen.getByLabelText("Event"), "user_created");
    await user.selectOptions(screen.getByLabelText("Status"), "success");
    await user.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(await screen.findAllByText("user_created")).toHaveLength(3);
    const filtered = asked.at(-1)!;
    expect(filtered.get("event_type")).toBe("user_created");
    expect(filtered.get("status")).toBe("success");
    expect(filtered.get("page")).toBe("1");
    expect(filtered.get("page_size")).toBe("50");
    expect(router.state.location.search).toBe("?event_type=user_created&status=success");

    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("bucket-20")).toBeInTheDocument();
    expect(asked.at(-1)!.get("page")).toBe("2");
    expect(asked.at(-1)!.get("event_type")).toBe("user_created");
    expect(screen.getByTestId("audit-total")).toHaveTextContent("page 2 of 3");
  });
});
