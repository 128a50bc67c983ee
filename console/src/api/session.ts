// The console session: the bearer token `POST /auth/login` (or `/auth/2fa/verify`) returned,
// kept in localStorage so a reload or a second tab stays logged in until the token expires.
import type { User } from "./types";

const STORAGE_KEY = "maxiofs.session";

export interface StoredSession {
  token: string;
  expiresAt: string | null;
  user: User | null;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let current: StoredSession | null = read();

function read(): StoredSession | null {
  try {
    const text = localStorage.getItem(STORAGE_KEY);
    if (!text) return null;
    const parsed = JSON.parse(text) as StoredSession;
    if (parsed.expiresAt && Date.parse(parsed.expiresAt) <= Date.now()) return null;
    return parsed;
  } catch {
    return null;
  }
}

export function getSession(): StoredSession | null {
  return current;
}

// Whether the last session ended by "Sign out" (then the next login starts at the dashboard)
// rather than by a 401 (then it returns to the page the user was on).
let signedOut = false;

export function wasSignedOut(): boolean {
  return signedOut;
}

export function setSession(
  session: StoredSession | null,
  options: { signedOut?: boolean } = {},
): void {
  current = session;
  signedOut = session === null && options.signedOut === true;
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be unavailable (private mode quotas); the session then lasts the page.
  }
  listeners.forEach((listener) => listener());
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
