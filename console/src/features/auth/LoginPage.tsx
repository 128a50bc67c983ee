// Login: user name and password, then (when the account has 2FA) a TOTP code or a backup
// code, exchanged for the session token the API expects as `Authorization: Bearer`.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { ApiError } from "../../api/client";
import { login, verifyTwoFactor } from "../../api/endpoints";
import { setSession } from "../../api/session";
import type { LoginResponse, Session } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Card } from "../../components/ui/Card";
import { Field, Input } from "../../components/ui/Field";
import { useSession } from "../../hooks/useSession";

function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    const id = error.requestId ? ` (request id ${error.requestId})` : "";
    return `${error.message}${id}`;
  }
  return String(error);
}

function PasswordStep({ onAnswer }: { onAnswer: (answer: LoginResponse) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const mutation = useMutation({
    mutationFn: () => login(username, password),
    onSuccess: onAnswer,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Sign in">
      <Field label="User name or access key" htmlFor="username">
        <Input
          id="username"
          autoComplete="username"
          autoFocus
          required
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
      </Field>
      <Field label="Password or secret key" htmlFor="password">
        <Input
          id="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      {mutation.error ? (
        <p role="alert" className="text-sm text-danger">
          {messageOf(mutation.error)}
        </p>
      ) : null}
      <Button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}

function SecondFactorStep({
  tempToken,
  onSession,
  onRestart,
}: {
  tempToken: string;
  onSession: (session: Session) => void;
  onRestart: () => void;
}) {
  const [code, setCode] = useState("");
  const [backup, setBackup] = useState(false);
  const mutation = useMutation({
    mutationFn: () => verifyTwoFactor(tempToken, code.trim()),
    onSuccess: onSession,
  });
  const expired = mutation.error instanceof ApiError && mutation.error.code === "Unauthorized";
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        mutation.mutate();
      }}
      className="flex flex-col gap-4"
      aria-label="Two-factor authentication"
    >
      <p className="text-sm text-muted-fg">
        {backup
          ? "Enter one of your backup codes. Each code works once."
          : "Enter the 6-digit code from your authenticator app."}
      </p>
      <Field label={backup ? "Backup code" : "Authentication code"} htmlFor="code">
        <Input
          id="code"
          key={backup ? "backup" : "totp"}
          autoFocus
          required
          autoComplete="one-time-code"
          inputMode={backup ? "text" : "numeric"}
          pattern={backup ? undefined : "[0-9]{6}"}
          maxLength={backup ? 64 : 6}
          value={code}
          onChange={(event) => setCode(event.target.value)}
        />
      </Field>
      {mutation.error ? (
        <p role="alert" className="text-sm text-danger">
          {messageOf(mutation.error)}
        </p>
      ) : null}
      <Button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? "Verifying…" : "Verify"}
      </Button>
      <div className="flex justify-between text-sm">
        <button
          type="button"
          className="text-primary underline"
          onClick={() => {
            setBackup(!backup);
            setCode("");
            mutation.reset();
          }}
        >
          {backup ? "Use an authenticator code" : "Use a backup code"}
        </button>
        <button type="button" className="text-muted-fg underline" onClick={onRestart}>
          {expired ? "Start again" : "Back"}
        </button>
      </div>
    </form>
  );
}

export default function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [tempToken, setTempToken] = useState<string | null>(null);
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  const start = (answer: Session) => {
    setSession({
      token: answer.token,
      expiresAt: answer.expires_at ?? null,
      user: answer.user ?? null,
    });
    navigate(from, { replace: true });
  };
  if (session) return <Navigate to={from} replace />;
  return (
    <div className="flex min-h-screen items-center justify-center bg-muted p-4">
      <Card className="w-full max-w-sm p-8">
        <h1 className="mb-1 text-2xl font-semibold">MaxIOFS</h1>
        <p className="mb-6 text-sm text-muted-fg">
          {tempToken ? "Two-factor authentication" : "Sign in to the console"}
        </p>
        {tempToken ? (
          <SecondFactorStep
            tempToken={tempToken}
            onSession={start}
            onRestart={() => setTempToken(null)}
          />
        ) : (
          <PasswordStep
            onAnswer={(answer) =>
              "requires_2fa" in answer && answer.requires_2fa
                ? setTempToken(answer.temp_token)
                : start(answer as Session)
            }
          />
        )}
      </Card>
    </div>
  );
}
