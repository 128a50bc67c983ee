import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState } from "react";
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from "react-router";
import { Layout } from "./components/Layout";
import { SkeletonRows } from "./components/ui/Card";
import { Toaster } from "./components/ui/Toast";
import { wasSignedOut } from "./api/session";
import { useSession } from "./hooks/useSession";

// Every page is its own chunk: the first load carries the shell and the login page only.
const LoginPage = lazy(() => import("./features/auth/LoginPage"));
const DashboardPage = lazy(() => import("./features/dashboard/DashboardPage"));
const BucketsPage = lazy(() => import("./features/buckets/BucketsPage"));
const BucketSettingsPage = lazy(() => import("./features/buckets/BucketSettingsPage"));
const UsersPage = lazy(() => import("./features/users/UsersPage"));
const AuditPage = lazy(() => import("./features/audit/AuditPage"));
const ProfilePage = lazy(() => import("./features/profile/ProfilePage"));
const AboutPage = lazy(() => import("./features/about/AboutPage"));
const NotFoundPage = lazy(() => import("./features/about/NotFoundPage"));

function PageFallback() {
  return (
    <div className="p-8">
      <SkeletonRows rows={6} />
    </div>
  );
}

/** Pages behind the login: without a session (or after any 401) the login page, which comes
 * back here afterwards. */
function RequireSession() {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    const from = wasSignedOut() ? undefined : { from: location.pathname + location.search };
    return <Navigate to="/login" replace state={from} />;
  }
  return <Outlet />;
}

function Page({ children }: { children: React.ReactNode }) {
  return <Suspense fallback={<PageFallback />}>{children}</Suspense>;
}

export function routes() {
  return [
    {
      path: "/login",
      element: (
        <Page>
          <LoginPage />
        </Page>
      ),
    },
    {
      element: <RequireSession />,
      children: [
        {
          element: <Layout />,
          children: [
            {
              index: true,
              element: (
                <Page>
                  <DashboardPage />
                </Page>
              ),
            },
            {
              path: "buckets",
              element: (
                <Page>
                  <BucketsPage />
                </Page>
              ),
            },
            {
              path: "buckets/:bucket",
              element: (
                <Page>
                  <BucketSettingsPage />
                </Page>
              ),
            },
            {
              path: "users",
              element: (
                <Page>
                  <UsersPage />
                </Page>
              ),
            },
            {
              path: "audit",
              element: (
                <Page>
                  <AuditPage />
                </Page>
              ),
            },
            {
              path: "profile",
              element: (
                <Page>
                  <ProfilePage />
                </Page>
              ),
            },
            {
              path: "about",
              element: (
                <Page>
                  <AboutPage />
                </Page>
              ),
            },
            {
              path: "*",
              element: (
                <Page>
                  <NotFoundPage />
                </Page>
              ),
            },
          ],
        },
      ],
    },
  ];
}

export function App({ queryClient }: { queryClient: QueryClient }) {
  const session = useSession();
  const [router] = useState(() => createBrowserRouter(routes()));
  // A new identity must not see the previous one's cached answers.
  useEffect(() => {
    if (!session) queryClient.clear();
  }, [session, queryClient]);
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
      <Toaster />
    </QueryClientProvider>
  );
}
