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
const ObjectBrowserPage = lazy(() => import("./features/objects/ObjectBrowserPage"));
const UsersPage = lazy(() => import("./features/users/UsersPage"));
const UserDetailPage = lazy(() => import("./features/users/UserDetailPage"));
const TenantsPage = lazy(() => import("./features/tenants/TenantsPage"));
const PoliciesPage = lazy(() => import("./features/iam/PoliciesPage"));
const GroupsPage = lazy(() => import("./features/iam/GroupsPage"));
const SettingsPage = lazy(() => import("./features/settings/SettingsPage"));
const MetricsPage = lazy(() => import("./features/metrics/MetricsPage"));
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

function page(Component: React.ComponentType) {
  return (
    <Suspense fallback={<PageFallback />}>
      <Component />
    </Suspense>
  );
}

export function routes() {
  return [
    {
      path: "/login",
      element: page(LoginPage),
    },
    {
      element: <RequireSession />,
      children: [
        {
          element: <Layout />,
          children: [
            { index: true, element: page(DashboardPage) },
            { path: "buckets", element: page(BucketsPage) },
            { path: "buckets/:bucket", element: page(BucketSettingsPage) },
            { path: "buckets/:bucket/objects", element: page(ObjectBrowserPage) },
            { path: "users", element: page(UsersPage) },
            { path: "users/:user", element: page(UserDetailPage) },
            { path: "tenants", element: page(TenantsPage) },
            { path: "groups", element: page(GroupsPage) },
            { path: "policies", element: page(PoliciesPage) },
            { path: "settings", element: page(SettingsPage) },
            { path: "metrics", element: page(MetricsPage) },
            { path: "audit", element: page(AuditPage) },
            { path: "profile", element: page(ProfilePage) },
            { path: "about", element: page(AboutPage) },
            { path: "*", element: page(NotFoundPage) },
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
