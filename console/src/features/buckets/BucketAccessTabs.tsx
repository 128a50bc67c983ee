// A bucket's CORS rules (a visual editor), bucket policy (a JSON editor) and tags. Each tab
// edits a draft and saves the whole configuration; the server validates it as the S3 port
// does and its message is shown when it refuses.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError } from "../../api/client";
import { bucketCors, bucketPolicy, bucketTagging } from "../../api/endpoints";
import type { BucketTag } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { Card, EmptyState, SkeletonRows } from "../../components/ui/Card";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { Field, Input, invalidProps } from "../../components/ui/Field";
import { TagSetEditor } from "../../components/ui/TagFields";
import { toast } from "../../components/ui/Toast";
import { checkPolicy, formatPolicy } from "../iam/policyDocument";
import {
  CORS_METHODS,
  corsProblem,
  draftOf,
  NEW_CORS_DRAFT,
  ruleOf,
  tagsProblem,
  type CorsDraft,
} from "./bucketRules";

const TEXTAREA = "w-full rounded-md border border-border bg-bg p-2 font-mono text-xs";

/** Save (`PUT`) or remove (`DELETE`) one part of a bucket's configuration, then refetch. */
function useBucketPart<T>(
  bucket: string,
  part: string,
  api: { put: (name: string, body: T) => Promise<T>; remove: (name: string) => Promise<T> },
  onRefused?: (error: ApiError) => boolean,
) {
  const queryClient = useQueryClient();
  const key = ["buckets", bucket, part];
  const title = part.charAt(0).toUpperCase() + part.slice(1);
  return useMutation({
    mutationFn: (body: T | null) => (body === null ? api.remove(bucket) : api.put(bucket, body)),
    onSuccess: async (_, body) => {
      toast.success(body === null ? `${title} removed` : `${title} saved`, bucket);
      await queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (error) => {
      if (error instanceof ApiError && onRefused?.(error)) return;
      toast.error(error, `${title} not saved`);
    },
  });
}

/** Removes a whole configuration, after a confirmation. */
function RemoveConfirmed({
  label,
  disabled,
  title,
  description,
  pending,
  onConfirm,
}: {
  label: string;
  disabled: boolean;
  title: string;
  description: string;
  pending: boolean;
  onConfirm: (done: () => void) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  return (
    <>
      <Button
        variant="ghost"
        className="text-danger"
        disabled={disabled}
        onClick={() => setConfirming(true)}
      >
        {label}
      </Button>
      <ConfirmDialog
        open={confirming}
        onOpenChange={setConfirming}
        title={title}
        description={description}
        confirmLabel={label}
        pending={pending}
        onConfirm={() => onConfirm(() => setConfirming(false))}
      />
    </>
  );
}

/** A tab's saved configuration, read; `editor` is keyed by it, so that a save or a refetch
 * starts the editor from the server's copy. */
function SavedPart<T>({
  bucket,
  part,
  read,
  editor,
}: {
  bucket: string;
  part: string;
  read: (name: string) => Promise<T>;
  editor: (saved: T) => React.ReactElement;
}) {
  const query = useQuery({ queryKey: ["buckets", bucket, part], queryFn: () => read(bucket) });
  if (query.isPending) return <SkeletonRows rows={3} />;
  if (query.error) return <EmptyState title="Not available" description={query.error.message} />;
  return <div key={JSON.stringify(query.data)}>{editor(query.data)}</div>;
}

function CorsRuleCard({
  index,
  draft,
  onChange,
  onRemove,
}: {
  index: number;
  draft: CorsDraft;
  onChange: (draft: CorsDraft) => void;
  onRemove: () => void;
}) {
  const id = `cors-${index}`;
  const problem = corsProblem(draft);
  const area = (key: "origins" | "allowedHeaders" | "exposeHeaders", label: string) => (
    <Field label={label} htmlFor={`${id}-${key}`} hint="One per line">
      <textarea
        id={`${id}-${key}`}
        rows={3}
        className={TEXTAREA}
        value={draft[key]}
        onChange={(event) => onChange({ ...draft, [key]: event.target.value })}
      />
    </Field>
  );
  return (
    <Card className="flex flex-col gap-3" aria-label={`CORS rule ${index + 1}`} role="group">
      <div className="flex items-center justify-between">
        <h3 className="font-medium">Rule {index + 1}</h3>
        <DeleteButton label={`Remove CORS rule ${index + 1}`} onClick={onRemove}>
          Remove rule
        </DeleteButton>
      </div>
      <div className="grid grid-cols-3 gap-3">
        {area("origins", "Allowed origins")}
        {area("allowedHeaders", "Allowed headers")}
        {area("exposeHeaders", "Expose headers")}
      </div>
      <div className="flex flex-wrap items-end gap-6">
        <fieldset className="flex flex-col gap-1.5">
          <legend className="mb-1.5 text-sm font-medium">Allowed methods</legend>
          <div className="flex gap-3">
            {CORS_METHODS.map((method) => (
              <label key={method} className="flex items-center gap-1 text-sm">
                <input
                  type="checkbox"
                  checked={draft.methods.includes(method)}
                  onChange={(event) =>
                    onChange({
                      ...draft,
                      methods: event.target.checked
                        ? [...draft.methods, method]
                        : draft.methods.filter((known) => known !== method),
                    })
                  }
                />
                {method}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="w-48">
          <Field label="Max age (seconds)" htmlFor={`${id}-max-age`}>
            <Input
              id={`${id}-max-age`}
              inputMode="numeric"
              value={draft.maxAge}
              onChange={(event) => onChange({ ...draft, maxAge: event.target.value })}
            />
          </Field>
        </div>
      </div>
      {problem ? (
        <p className="text-sm text-danger" role="alert">
          {problem}
        </p>
      ) : null}
    </Card>
  );
}

function CorsEditor({ bucket, saved }: { bucket: string; saved: CorsDraft[] }) {
  const [drafts, setDrafts] = useState(saved);
  const save = useBucketPart(bucket, "CORS", bucketCors);
  const invalid = drafts.some((draft) => corsProblem(draft) !== undefined);
  return (
    <div className="flex flex-col gap-4">
      {drafts.length === 0 ? (
        <EmptyState
          title="No CORS rules"
          description="Browsers on other sites may not call this bucket. Add a rule to allow an origin."
        />
      ) : (
        drafts.map((draft, index) => (
          <CorsRuleCard
            key={index}
            index={index}
            draft={draft}
            onChange={(next) => setDrafts(drafts.map((old, at) => (at === index ? next : old)))}
            onRemove={() => setDrafts(drafts.filter((_, at) => at !== index))}
          />
        ))
      )}
      <div className="flex justify-between gap-2">
        <Button variant="secondary" onClick={() => setDrafts([...drafts, NEW_CORS_DRAFT])}>
          Add CORS rule
        </Button>
        <div className="flex gap-2">
          <RemoveConfirmed
            label="Remove all rules"
            disabled={saved.length === 0}
            title="Remove every CORS rule?"
            description="Browsers on other origins are refused at once."
            pending={save.isPending}
            onConfirm={(done) => save.mutate(null, { onSuccess: done })}
          />
          <Button
            disabled={invalid || drafts.length === 0 || save.isPending}
            onClick={() => save.mutate({ rules: drafts.map(ruleOf) })}
          >
            Save CORS
          </Button>
        </div>
      </div>
    </div>
  );
}

export function CorsTab({ bucket }: { bucket: string }) {
  return (
    <SavedPart
      bucket={bucket}
      part="CORS"
      read={bucketCors.get}
      editor={(saved) => <CorsEditor bucket={bucket} saved={saved.rules.map(draftOf)} />}
    />
  );
}

function policyTemplate(bucket: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PublicRead",
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    },
    null,
    2,
  );
}

function PolicyEditor({ bucket, saved }: { bucket: string; saved: string | null }) {
  const [text, setText] = useState(saved ? formatPolicy(saved) : policyTemplate(bucket));
  const [refusal, setRefusal] = useState<string | null>(null);
  const save = useBucketPart(bucket, "policy", bucketPolicy, (error) => {
    if (error.code !== "MalformedPolicy") return false;
    setRefusal(error.message);
    return true;
  });
  const check = checkPolicy(text);
  const error = !check.ok ? check.error : (refusal ?? undefined);
  return (
    <div className="flex flex-col gap-3">
      <p className="text-sm text-muted-fg">
        {saved
          ? "The policy in force on the S3 port. Anonymous and other accounts' requests are judged by it."
          : "No bucket policy: only the bucket's own account may use it. Start from this example."}
      </p>
      <Field
        label="Bucket policy (JSON)"
        htmlFor="bucket-policy"
        error={error}
        hint="Checked as you type; the server validates it as PutBucketPolicy does."
      >
        <textarea
          id="bucket-policy"
          rows={14}
          spellCheck={false}
          className={TEXTAREA}
          value={text}
          {...invalidProps("bucket-policy", error)}
          onChange={(event) => {
            setText(event.target.value);
            setRefusal(null);
          }}
        />
      </Field>
      <div className="flex justify-between gap-2">
        <Button variant="ghost" disabled={!check.ok} onClick={() => setText(formatPolicy(text))}>
          Format JSON
        </Button>
        <div className="flex gap-2">
          <RemoveConfirmed
            label="Delete policy"
            disabled={!saved}
            title="Delete the bucket policy?"
            description="Whatever it allowed others is refused at once."
            pending={save.isPending}
            onConfirm={(done) => save.mutate(null, { onSuccess: done })}
          />
          <Button
            disabled={!check.ok || save.isPending}
            onClick={() => save.mutate({ policy: text })}
          >
            Save policy
          </Button>
        </div>
      </div>
    </div>
  );
}

export function PolicyTab({ bucket }: { bucket: string }) {
  return (
    <SavedPart
      bucket={bucket}
      part="policy"
      read={bucketPolicy.get}
      editor={(saved) => <PolicyEditor bucket={bucket} saved={saved.policy} />}
    />
  );
}

function TagsEditor({ bucket, saved }: { bucket: string; saved: BucketTag[] }) {
  const [tags, setTags] = useState(saved);
  const save = useBucketPart(bucket, "tags", bucketTagging);
  const problem = tagsProblem(tags);
  return (
    <Card className="flex flex-col gap-3">
      <TagSetEditor
        tags={tags}
        onChange={setTags}
        problem={problem}
        empty={
          <p className="text-sm text-muted-fg">
            No tags. Tags label a bucket for cost reports and policies (aws:ResourceTag).
          </p>
        }
        saving={save.isPending}
        onSave={() => save.mutate(tags.length === 0 ? null : { tags })}
      />
    </Card>
  );
}

export function TaggingTab({ bucket }: { bucket: string }) {
  return (
    <SavedPart
      bucket={bucket}
      part="tags"
      read={bucketTagging.get}
      editor={(saved) => <TagsEditor bucket={bucket} saved={saved.tags} />}
    />
  );
}
