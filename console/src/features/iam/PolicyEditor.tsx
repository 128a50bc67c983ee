// The managed-policy editor: name and JSON document, checked as one types (policyDocument.ts)
// and then by the server, whose MalformedPolicyDocument reason is shown under the document.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { createPolicy, updatePolicy } from "../../api/endpoints";
import type { Policy } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input, invalidProps } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { checkPolicy, formatPolicy, POLICY_TEMPLATE } from "./policyDocument";

const NAME = /^[A-Za-z0-9+=,.@_-]{1,128}$/;

/** `policy` null: a new policy. A built-in is shown read-only. Mounted afresh per opening. */
export function PolicyEditor({ policy, onClose }: { policy: Policy | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const readOnly = policy?.builtin === true;
  const [name, setName] = useState(policy?.name ?? "");
  const [document, setDocument] = useState(
    policy ? formatPolicy(policy.document) : POLICY_TEMPLATE,
  );
  const [serverError, setServerError] = useState<string | null>(null);
  const id = useId();
  const check = checkPolicy(document);
  const nameError =
    name === "" || NAME.test(name) ? undefined : "1-128 of letters, digits and +=,.@_-";
  const save = useMutation({
    mutationFn: () =>
      policy ? updatePolicy(policy.id, { name, document }) : createPolicy({ name, document }),
    onSuccess: async (saved) => {
      toast.success(policy ? "Policy saved" : "Policy created", saved.name);
      await queryClient.invalidateQueries({ queryKey: ["policies"] });
      onClose();
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === "MalformedPolicyDocument") {
        setServerError(error.message);
      } else {
        toast.error(error, "Policy not saved");
      }
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (check.ok && !nameError && name) save.mutate();
  };
  const documentError = !check.ok ? check.error : (serverError ?? undefined);
  return (
    <Dialog
      open
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={readOnly ? `Built-in policy ${policy?.name}` : policy ? "Edit policy" : "New policy"}
      description={
        policy?.description ?? "An IAM identity policy: attach it to users or groups afterwards."
      }
    >
      <form onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Name" htmlFor={`${id}-name`} error={nameError}>
          <Input
            id={`${id}-name`}
            required
            readOnly={readOnly}
            value={name}
            {...invalidProps(`${id}-name`, nameError)}
            onChange={(event) => setName(event.target.value)}
          />
        </Field>
        <Field
          label="Policy document (JSON)"
          htmlFor={`${id}-document`}
          error={documentError}
          hint="Checked as you type; the server validates it again on save."
        >
          <textarea
            id={`${id}-document`}
            readOnly={readOnly}
            spellCheck={false}
            rows={14}
            value={document}
            {...invalidProps(`${id}-document`, documentError)}
            onChange={(event) => {
              setDocument(event.target.value);
              setServerError(null);
            }}
            className="w-full rounded-md border border-border bg-bg p-3 font-mono text-xs"
          />
        </Field>
        {readOnly ? (
          <div className="flex justify-end">
            <Button variant="secondary" onClick={onClose}>
              Close
            </Button>
          </div>
        ) : (
          <div className="flex justify-between gap-2">
            <Button
              variant="ghost"
              disabled={!check.ok}
              onClick={() => setDocument(formatPolicy(document))}
            >
              Format JSON
            </Button>
            <div className="flex gap-2">
              <Button variant="secondary" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" disabled={!check.ok || !name || !!nameError || save.isPending}>
                {policy ? "Save policy" : "Create policy"}
              </Button>
            </div>
          </div>
        )}
      </form>
    </Dialog>
  );
}
