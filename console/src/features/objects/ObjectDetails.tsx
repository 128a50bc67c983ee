// One object's details: its metadata (HEAD; edited by copying the object onto itself with
// new metadata), its tags (GetObjectTagging / PutObjectTagging) and its versions.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { ObjectHead, S3Client } from "../../api/s3";
import type { Tag } from "../../api/s3xml";
import { Button } from "../../components/ui/Button";
import { Badge, Facts, ListState } from "../../components/ui/Card";
import { ConfirmDialog, Dialog } from "../../components/ui/Dialog";
import { Field, Input } from "../../components/ui/Field";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../../components/ui/Tabs";
import { TagFields, TagSetEditor } from "../../components/ui/TagFields";
import { toast } from "../../components/ui/Toast";
import { formatBytes, formatDate } from "../../lib";
import { tagsProblem } from "../buckets/bucketRules";

/** S3's limit of tags on one object. */
const OBJECT_TAG_COUNT_MAX = 10;

type Props = { client: S3Client; bucket: string; objectKey: string };

export function ObjectDetails({
  client,
  bucket,
  objectKey,
  onClose,
}: Omit<Props, "objectKey"> & { objectKey: string | null; onClose: () => void }) {
  return (
    <Dialog
      open={objectKey !== null}
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={objectKey ?? ""}
      description="Object details"
    >
      {objectKey === null ? null : (
        <Tabs defaultValue="metadata">
          <TabsList aria-label="Object details">
            <TabsTrigger value="metadata">Metadata</TabsTrigger>
            <TabsTrigger value="tags">Tags</TabsTrigger>
            <TabsTrigger value="versions">Versions</TabsTrigger>
          </TabsList>
          <TabsContent value="metadata">
            <MetadataTab client={client} bucket={bucket} objectKey={objectKey} />
          </TabsContent>
          <TabsContent value="tags">
            <TagsTab client={client} bucket={bucket} objectKey={objectKey} />
          </TabsContent>
          <TabsContent value="versions">
            <VersionsTab client={client} bucket={bucket} objectKey={objectKey} />
          </TabsContent>
        </Tabs>
      )}
      <div className="mt-4 flex justify-end">
        <Button variant="secondary" onClick={onClose}>
          Close
        </Button>
      </div>
    </Dialog>
  );
}

function MetadataTab({ client, bucket, objectKey }: Props) {
  const head = useQuery({
    queryKey: ["s3-head", bucket, objectKey],
    queryFn: () => client.headObject(bucket, objectKey),
  });
  return (
    <ListState query={head} failed="Metadata could not be read">
      {head.data ? (
        <MetadataEditor client={client} bucket={bucket} objectKey={objectKey} head={head.data} />
      ) : null}
    </ListState>
  );
}

function MetadataEditor({ client, bucket, objectKey, head }: Props & { head: ObjectHead }) {
  const queryClient = useQueryClient();
  const [contentType, setContentType] = useState(head.contentType);
  const [rows, setRows] = useState<Tag[]>(
    Object.entries(head.metadata).map(([key, value]) => ({ key, value })),
  );
  const save = useMutation({
    mutationFn: () =>
      client.putMetadata(
        bucket,
        objectKey,
        contentType,
        Object.fromEntries(rows.map((row) => [row.key.toLowerCase(), row.value])),
      ),
    onSuccess: async () => {
      toast.success("Metadata saved", objectKey);
      await queryClient.invalidateQueries({ queryKey: ["s3-head", bucket, objectKey] });
    },
    onError: (error) => toast.error(error, "Metadata not saved"),
  });
  return (
    <div className="flex flex-col gap-4">
      <Facts
        rows={[
          ["Size", formatBytes(head.sizeBytes)],
          ["Last modified", formatDate(head.lastModified)],
          ["ETag", <code key="etag">{head.etag}</code>],
          ["Version", head.versionId ?? "—"],
        ]}
      />
      <Field label="Content type" htmlFor="object-content-type">
        <Input
          id="object-content-type"
          value={contentType}
          onChange={(event) => setContentType(event.target.value)}
        />
      </Field>
      <p className="text-sm font-medium">User metadata (x-amz-meta-*)</p>
      <TagFields tags={rows} onChange={setRows} />
      <div className="flex justify-between">
        <Button variant="secondary" onClick={() => setRows([...rows, { key: "", value: "" }])}>
          Add metadata
        </Button>
        <Button
          disabled={save.isPending || rows.some((row) => !/^[a-z0-9-]+$/i.test(row.key))}
          onClick={() => save.mutate()}
        >
          Save metadata
        </Button>
      </div>
    </div>
  );
}

function TagsTab({ client, bucket, objectKey }: Props) {
  const tags = useQuery({
    queryKey: ["s3-tags", bucket, objectKey],
    queryFn: () => client.getTagging(bucket, objectKey),
  });
  return (
    <ListState query={tags} failed="Tags could not be read">
      {tags.data ? (
        <TagsEditor client={client} bucket={bucket} objectKey={objectKey} saved={tags.data} />
      ) : null}
    </ListState>
  );
}

function TagsEditor({ client, bucket, objectKey, saved }: Props & { saved: Tag[] }) {
  const queryClient = useQueryClient();
  const [tags, setTags] = useState(saved);
  const problem = tagsProblem(tags, OBJECT_TAG_COUNT_MAX);
  const save = useMutation({
    mutationFn: () => client.putTagging(bucket, objectKey, tags),
    onSuccess: async () => {
      toast.success("Tags saved", objectKey);
      await queryClient.invalidateQueries({ queryKey: ["s3-tags", bucket, objectKey] });
    },
    onError: (error) => toast.error(error, "Tags not saved"),
  });
  return (
    <div className="flex flex-col gap-3">
      <TagSetEditor
        tags={tags}
        onChange={setTags}
        problem={problem}
        empty={<p className="text-sm text-muted-fg">No tags.</p>}
        saving={save.isPending}
        onSave={() => save.mutate()}
      />
    </div>
  );
}

function VersionsTab({ client, bucket, objectKey }: Props) {
  const queryClient = useQueryClient();
  const queryKey = ["s3-versions", bucket, objectKey];
  const versions = useQuery({ queryKey, queryFn: () => client.listVersions(bucket, objectKey) });
  const [doomed, setDoomed] = useState<string | null>(null);
  const act = useMutation({
    mutationFn: ({ action, versionId }: { action: "restore" | "delete"; versionId: string }) =>
      action === "restore"
        ? client.restoreVersion(bucket, objectKey, versionId)
        : client.deleteVersion(bucket, objectKey, versionId),
    onSuccess: async (_, { action }) => {
      setDoomed(null);
      toast.success(action === "restore" ? "Version restored" : "Version deleted", objectKey);
      await queryClient.invalidateQueries({ queryKey });
      await queryClient.invalidateQueries({ queryKey: ["s3-objects", bucket] });
    },
    onError: (error) => toast.error(error, "Version not changed"),
  });
  const download = async (versionId: string) => {
    const url = await client.presignGet(bucket, objectKey, 300, { download: true, versionId });
    window.location.assign(url);
  };
  return (
    <ListState
      query={versions}
      failed="Versions could not be listed"
      empty={versions.data?.length === 0 ? <p className="text-sm">No versions.</p> : undefined}
    >
      <ul className="flex flex-col gap-2" aria-label="Versions">
        {(versions.data ?? []).map((version) => (
          <li key={version.versionId} className="flex items-center justify-between gap-2 text-sm">
            <div className="min-w-0">
              <p className="truncate font-mono text-xs">{version.versionId}</p>
              <p className="text-xs text-muted-fg">
                {formatDate(version.lastModified)} · {formatBytes(version.sizeBytes)}{" "}
                {version.isLatest ? <Badge tone="success">current</Badge> : null}
                {version.deleteMarker ? <Badge tone="danger">delete marker</Badge> : null}
              </p>
            </div>
            <div className="flex gap-1">
              {version.deleteMarker ? null : (
                <Button variant="ghost" size="sm" onClick={() => void download(version.versionId)}>
                  Download
                </Button>
              )}
              {version.isLatest || version.deleteMarker ? null : (
                <Button
                  variant="secondary"
                  size="sm"
                  disabled={act.isPending}
                  onClick={() => act.mutate({ action: "restore", versionId: version.versionId })}
                >
                  Restore
                </Button>
              )}
              <Button
                variant="ghost"
                size="sm"
                className="text-danger"
                disabled={act.isPending}
                aria-label={`Delete version ${version.versionId}`}
                onClick={() => setDoomed(version.versionId)}
              >
                Delete
              </Button>
            </div>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={doomed !== null}
        onOpenChange={(open) => (open ? undefined : setDoomed(null))}
        title="Delete this version?"
        description={`Version ${doomed ?? ""} of ${objectKey} is removed for good.`}
        confirmLabel="Delete version"
        pending={act.isPending}
        onConfirm={() => doomed && act.mutate({ action: "delete", versionId: doomed })}
      />
    </ListState>
  );
}
