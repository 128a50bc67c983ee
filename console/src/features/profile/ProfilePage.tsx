import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { changePassword, getMe } from "../../api/endpoints";
import { Button } from "../../components/ui/Button";
import { Card, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { Field, Input } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { TwoFactorCard } from "./TwoFactorCard";

function PasswordCard({ userId }: { userId: string }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const mutation = useMutation({
    mutationFn: () => changePassword(userId, current, next),
    onSuccess: () => {
      toast.success("Password changed", "Your other sessions were signed out.");
      setCurrent("");
      setNext("");
      setAgain("");
    },
    onError: (error) => toast.error(error, "Password not changed"),
  });
  const mismatch = again.length > 0 && again !== next;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return (
    <Card>
      <h2 className="mb-4 font-semibold">Password</h2>
      <form onSubmit={submit} className="grid grid-cols-3 items-end gap-3">
        <Field label="Current password" htmlFor="password-current">
          <Input
            id="password-current"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(event) => setCurrent(event.target.value)}
          />
        </Field>
        <Field label="New password" htmlFor="password-new">
          <Input
            id="password-new"
            type="password"
            autoComplete="new-password"
            required
            value={next}
            onChange={(event) => setNext(event.target.value)}
          />
        </Field>
        <Field
          label="New password again"
          htmlFor="password-again"
          hint={mismatch ? "The two new passwords differ" : undefined}
        >
          <Input
            id="password-again"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={mismatch || undefined}
            value={again}
            onChange={(event) => setAgain(event.target.value)}
          />
        </Field>
        <div className="col-span-3 flex justify-end">
          <Button type="submit" disabled={mismatch || !next || mutation.isPending}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  );
}

export default function ProfilePage() {
  const me = useQuery({ queryKey: ["me"], queryFn: getMe });
  return (
    <>
      <PageHeader title="Profile" description="Your account, password and two-factor login." />
      {me.isPending ? (
        <SkeletonRows rows={4} />
      ) : me.error ? (
        <Card>{me.error.message}</Card>
      ) : (
        <div className="flex flex-col gap-4">
          <Card>
            <dl className="grid grid-cols-[10rem_1fr] gap-y-2 text-sm">
              <dt className="text-muted-fg">User</dt>
              <dd>{me.data.username}</dd>
              <dt className="text-muted-fg">Role</dt>
              <dd>{me.data.role}</dd>
              <dt className="text-muted-fg">Tenant</dt>
              <dd>{me.data.tenant_id ?? "—"}</dd>
            </dl>
          </Card>
          {me.data.root ? (
            <Card className="text-sm text-muted-fg">
              The root identity is the break-glass credential: its password is set where the server
              starts, and it has no 2FA. Create a global admin user for daily use.
            </Card>
          ) : (
            <>
              <PasswordCard userId={me.data.id} />
              <TwoFactorCard />
            </>
          )}
        </div>
      )}
    </>
  );
}
