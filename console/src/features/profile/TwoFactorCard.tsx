// 2FA enrolment: the API's QR code and secret, a first code to confirm, then the backup codes,
// shown once. Also new backup codes and turning 2FA off.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  disableTwoFactor,
  enableTwoFactor,
  getTwoFactorStatus,
  newBackupCodes,
  setupTwoFactor,
} from "../../api/endpoints";
import type { TwoFactorSetup } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Badge, Card, Skeleton } from "../../components/ui/Card";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";

function BackupCodesDialog({ codes, onClose }: { codes: string[] | null; onClose: () => void }) {
  return (
    <Dialog
      open={codes !== null}
      onOpenChange={(open) => (open ? undefined : onClose())}
      title="Backup codes"
      description="Each code signs you in once without the app. They are shown only now."
    >
      <ul className="grid grid-cols-2 gap-2 font-mono text-sm" data-testid="backup-codes">
        {(codes ?? []).map((code) => (
          <li key={code} className="rounded bg-muted px-2 py-1">
            {code}
          </li>
        ))}
      </ul>
      <div className="mt-4 flex justify-end gap-2">
        <Button
          variant="secondary"
          onClick={() => navigator.clipboard.writeText((codes ?? []).join("\n")).catch(() => {})}
        >
          Copy all
        </Button>
        <Button onClick={onClose}>I have saved them</Button>
      </div>
    </Dialog>
  );
}

function Enrolment({ setup, onDone }: { setup: TwoFactorSetup; onDone: (c: string[]) => void }) {
  const [code, setCode] = useState("");
  const enable = useMutation({
    mutationFn: () => enableTwoFactor(code.trim()),
    onSuccess: (answer) => onDone(answer.backup_codes),
    onError: (error) => toast.error(error, "2FA not enabled"),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    enable.mutate();
  };
  return (
    <form onSubmit={submit} className="mt-4 flex gap-6">
      <img
        src={setup.qr_code}
        alt="QR code for your authenticator app"
        className="h-40 w-40 rounded bg-white p-1"
      />
      <div className="flex flex-1 flex-col gap-3">
        <p className="text-sm text-muted-fg">
          Scan the code with an authenticator app, or enter this key by hand:
        </p>
        <code className="rounded bg-muted px-2 py-1 text-sm break-all">{setup.secret}</code>
        <Field label="Code from the app" htmlFor="totp-confirm">
          <Input
            id="totp-confirm"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
        </Field>
        <div>
          <Button type="submit" disabled={enable.isPending}>
            Turn on 2FA
          </Button>
        </div>
      </div>
    </form>
  );
}

export function TwoFactorCard() {
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: ["2fa-status"], queryFn: getTwoFactorStatus });
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["2fa-status"] });
  const start = useMutation({
    mutationFn: setupTwoFactor,
    onSuccess: setSetup,
    onError: (error) => toast.error(error, "2FA setup failed"),
  });
  const disable = useMutation({
    mutationFn: () => disableTwoFactor({ code: code.trim() }),
    onSuccess: async () => {
      toast.success("2FA turned off");
      setCode("");
      await refresh();
    },
    onError: (error) => toast.error(error, "2FA not turned off"),
  });
  const regenerate = useMutation({
    mutationFn: () => newBackupCodes(code.trim()),
    onSuccess: (answer) => {
      setCode("");
      setCodes(answer.backup_codes);
    },
    onError: (error) => toast.error(error, "No new backup codes"),
  });
  const enabled = status.data?.enabled ?? false;
  return (
    <Card>
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">Two-factor authentication</h2>
        {status.isPending ? (
          <Skeleton className="h-5 w-16" />
        ) : (
          <Badge tone={enabled ? "success" : "muted"}>
            <span data-testid="2fa-status">{enabled ? "On" : "Off"}</span>
          </Badge>
        )}
      </div>
      {enabled ? (
        <div className="mt-4 flex items-end gap-3">
          <p className="flex-1 text-sm text-muted-fg">
            {status.data?.backup_codes_remaining ?? 0} backup codes left. Enter a current code to
            get new backup codes or to turn 2FA off.
          </p>
          <Field label="Code" htmlFor="totp-manage">
            <Input
              id="totp-manage"
              className="w-32"
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
          </Field>
          <Button
            variant="secondary"
            disabled={!code || regenerate.isPending}
            onClick={() => regenerate.mutate()}
          >
            New backup codes
          </Button>
          <Button
            variant="danger"
            disabled={!code || disable.isPending}
            onClick={() => disable.mutate()}
          >
            Turn off
          </Button>
        </div>
      ) : setup ? (
        <Enrolment
          setup={setup}
          onDone={async (backup) => {
            setSetup(null);
            setCodes(backup);
            await refresh();
          }}
        />
      ) : (
        <div className="mt-4 flex items-center justify-between">
          <p className="text-sm text-muted-fg">
            A code from an authenticator app at each sign-in, on top of the password.
          </p>
          <Button disabled={start.isPending || status.isPending} onClick={() => start.mutate()}>
            Set up 2FA
          </Button>
        </div>
      )}
      <BackupCodesDialog codes={codes} onClose={() => setCodes(null)} />
    </Card>
  );
}
