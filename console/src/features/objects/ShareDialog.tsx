import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { mintS3Credentials } from "../../api/endpoints";
import type { S3Client } from "../../api/s3";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input, NativeSelect } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { accessOf } from "./useS3";

/** Expiries offered for a share link. A presigned URL stops working when the credentials
 * that signed it expire, so each link is signed with credentials minted for its expiry
 * (session credentials last 12 hours at most). */
export const SHARE_EXPIRIES: [string, number][] = [
  ["15 minutes", 15 * 60],
  ["1 hour", 3600],
  ["12 hours", 12 * 3600],
];

export function ShareDialog({
  client,
  bucket,
  objectKey,
  onClose,
}: {
  client: S3Client;
  bucket: string;
  objectKey: string | null;
  onClose: () => void;
}) {
  const [expiresSeconds, setExpiresSeconds] = useState(3600);
  const [copied, setCopied] = useState(false);
  const link = useMutation({
    mutationFn: async () => {
      const credentials = await mintS3Credentials(Math.max(60, expiresSeconds));
      const access = accessOf(credentials, window.location.hostname);
      return client.presignGet(bucket, objectKey ?? "", expiresSeconds, { access });
    },
    onError: (error) => toast.error(error, "Share link not created"),
  });
  const close = () => {
    link.reset();
    setCopied(false);
    onClose();
  };
  return (
    <Dialog
      open={objectKey !== null}
      onOpenChange={(open) => (open ? undefined : close())}
      title="Share link"
      description={`Anyone with the link can download ${objectKey ?? ""} until it expires.`}
    >
      <div className="flex flex-col gap-4">
        <Field label="Expires after" htmlFor="share-expiry">
          <NativeSelect
            id="share-expiry"
            value={expiresSeconds}
            onChange={(event) => {
              setExpiresSeconds(Number(event.target.value));
              link.reset();
            }}
          >
            {SHARE_EXPIRIES.map(([label, seconds]) => (
              <option key={seconds} value={seconds}>
                {label}
              </option>
            ))}
          </NativeSelect>
        </Field>
        {link.data ? (
          <Field label="Link" htmlFor="share-link">
            <div className="flex gap-2">
              <Input id="share-link" readOnly value={link.data} className="font-mono text-xs" />
              <Button
                variant="secondary"
                onClick={async () => {
                  await navigator.clipboard.writeText(link.data);
                  setCopied(true);
                }}
              >
                {copied ? "Copied" : "Copy"}
              </Button>
            </div>
          </Field>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={close}>
            Close
          </Button>
          <Button onClick={() => link.mutate()} disabled={link.isPending}>
            Create link
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
