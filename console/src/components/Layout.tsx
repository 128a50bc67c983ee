import { NavLink, Outlet } from "react-router";
import { logout } from "../api/endpoints";
import { setSession } from "../api/session";
import { useSession } from "../hooks/useSession";
import { useTheme, type Theme } from "../hooks/useTheme";
import { cn } from "../lib";
import { Button } from "./ui/Button";

type Audience = "everyone" | "admins" | "global";

const NAVIGATION: { to: string; label: string; end?: boolean; audience?: Audience }[] = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/buckets", label: "Buckets" },
  { to: "/users", label: "Users & keys", audience: "admins" },
  { to: "/groups", label: "Groups", audience: "admins" },
  { to: "/policies", label: "Policies", audience: "admins" },
  { to: "/tenants", label: "Tenants", audience: "admins" },
  { to: "/metrics", label: "Metrics", audience: "global" },
  { to: "/settings", label: "Settings", audience: "admins" },
  { to: "/audit", label: "Audit log" },
  { to: "/profile", label: "Profile" },
  { to: "/about", label: "About" },
];

function ThemeToggle() {
  const [theme, setTheme] = useTheme();
  const choices: Theme[] = ["system", "light", "dark"];
  return (
    <div role="radiogroup" aria-label="Theme" className="flex rounded-md border border-border">
      {choices.map((choice) => (
        <button
          key={choice}
          type="button"
          role="radio"
          aria-checked={theme === choice}
          onClick={() => setTheme(choice)}
          className={cn(
            "flex-1 px-2 py-1 text-xs capitalize",
            theme === choice ? "bg-muted font-semibold" : "text-muted-fg",
          )}
        >
          {choice}
        </button>
      ))}
    </div>
  );
}

export function Layout() {
  const session = useSession();
  // Plain users manage only themselves: the users page is for administrators.
  const role = session?.user?.role;
  const isGlobal = role === "global_admin";
  const isAdmin = isGlobal || role === "tenant_admin";
  const shown = (audience: Audience = "everyone") =>
    audience === "everyone" || (audience === "admins" ? isAdmin : isGlobal);
  const signOut = async () => {
    try {
      await logout();
    } catch {
      // The session ends here whatever the server said (it may have expired already).
    }
    // The router's guard then shows the login page.
    setSession(null, { signedOut: true });
  };
  return (
    <div className="flex min-h-screen">
      <aside className="flex w-56 shrink-0 flex-col border-r border-border bg-card p-4">
        <div className="mb-6 text-lg font-bold">
          MaxIOFS <span className="text-sm font-normal text-muted-fg">console</span>
        </div>
        <nav aria-label="Main" className="flex flex-col gap-1">
          {NAVIGATION.filter((item) => shown(item.audience)).map((item) => (
            <NavLink
              key={item.to}
              to={item.to}
              end={item.end}
              className={({ isActive }) =>
                cn(
                  "rounded-md px-3 py-2 text-sm",
                  isActive ? "bg-primary text-primary-fg" : "hover:bg-muted",
                )
              }
            >
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="mt-auto flex flex-col gap-3 pt-6">
          <ThemeToggle />
          <div className="text-xs text-muted-fg">
            Signed in as{" "}
            <span className="font-medium text-fg" data-testid="current-user">
              {session?.user?.username ?? "?"}
            </span>
          </div>
          <Button variant="secondary" size="sm" onClick={signOut}>
            Sign out
          </Button>
        </div>
      </aside>
      <main className="min-w-0 flex-1 p-8">
        <Outlet />
      </main>
    </div>
  );
}
