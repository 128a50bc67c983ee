import { useState } from "react";
import type { NewAccessKey } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";

const CODE =
  "flex-1 rounded-md border border-border bg-muted px-3 py-2 text-sm break-all select-all";

function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="flex flex-col gap-1">
      <span className="text-sm font-medium">{label}</span>
      <div className="flex gap-2">
        <code data-testid={testId} className={CODE}>
          {value}
        </code>
        <Button variant="secondary" size="sm" className="h-auto" onClick={copy}>
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
    </div>
  );
}

/** The one place a secret key is ever shown: the API returns it only in the create answer. */
export function NewKeyDialog({
  created,
  onClose,
}: {
  created: NewAccessKey | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={created !== null}
      onOpenChange={(open) => (open ? undefined : onClose())}
      title="Access key created"
      description="Copy the secret key now: it is shown only once and cannot be read again."
    >
      {created ? (
        <div className="flex flex-col gap-4">
          <CopyField label="Access key" value={created.access_key_id} testId="new-access-key" />
          <CopyField label="Secret key" value={created.secret_access_key} testId="new-secret-key" />
          <div className="flex justify-end">
            <Button onClick={onClose}>I have saved the secret</Button>
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}
