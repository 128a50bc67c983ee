// Renders pages as the app does (query client, router, toasts) for component tests.
import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { Toaster } from "../components/ui/Toast";
import { makeQueryClient } from "../queryClient";

export function renderRoutes(
  routes: { path: string; element: ReactElement }[],
  initialPath: string,
) {
  const router = createMemoryRouter(routes, { initialEntries: [initialPath] });
  const queryClient = makeQueryClient();
  queryClient.setDefaultOptions({ queries: { retry: false, staleTime: 0 } });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
      <Toaster />
    </QueryClientProvider>,
  );
  return { ...view, router, queryClient };
}
