// The theme toggle: "system" follows prefers-color-scheme through CSS alone; "light" and "dark"
// pin it with a class on <html> (index.css).
import { useCallback, useState } from "react";

export type Theme = "system" | "light" | "dark";
const STORAGE_KEY = "maxiofs.theme";

function stored(): Theme {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

export function applyTheme(theme: Theme = stored()): void {
  const root = document.documentElement;
  root.classList.remove("light", "dark");
  if (theme !== "system") root.classList.add(theme);
}

export function useTheme(): [Theme, (theme: Theme) => void] {
  const [theme, setThemeState] = useState<Theme>(stored);
  const setTheme = useCallback((next: Theme) => {
    try {
      if (next === "system") localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Without storage the choice lasts the page.
    }
    applyTheme(next);
    setThemeState(next);
  }, []);
  return [theme, setTheme];
}
