// Dynamic settings, one tab per category. Edits are drafts until "Save": checked here against
// type and bounds, then sent in one bulk call (all or nothing on the server too); a refusal
// is shown beside the field it names.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError } from "../../api/client";
import { listSettings, updateSettings } from "../../api/endpoints";
import type { Setting } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Badge, Card, EmptyState, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { Field, Input, invalidProps } from "../../components/ui/Field";
import { Switch } from "../../components/ui/Switch";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../../components/ui/Tabs";
import { toast } from "../../components/ui/Toast";
import { useSession } from "../../hooks/useSession";
import { formatDate } from "../../lib";
import { changes, checkDraft, draftOf, serverErrors, titleOf, type Drafts } from "./settingsForm";

function SettingRow({
  setting,
  draft,
  error,
  readOnly,
  onDraft,
}: {
  setting: Setting;
  draft: string | boolean;
  error: string | undefined;
  readOnly: boolean;
  onDraft: (draft: string | boolean) => void;
}) {
  const id = `setting-${setting.key}`;
  const changed = draft !== draftOf(setting);
  const isDefault = setting.value === setting.default;
  const bounds = setting.type === "int" ? `${setting.min ?? "…"} to ${setting.max ?? "…"}; ` : "";
  const hint = `${bounds}default ${String(setting.default)}${
    setting.updated_by ? `; set by ${setting.updated_by} ${formatDate(setting.updated_at)}` : ""
  }`;
  return (
    <div className="grid grid-cols-[1fr_16rem] items-start gap-6 border-t border-border py-4 first:border-t-0">
      <div>
        <div className="flex items-center gap-2">
          <span className="font-medium">{titleOf(setting.key)}</span>
          {changed ? <Badge tone="info">unsaved</Badge> : null}
          {!isDefault && !changed ? <Badge>changed from default</Badge> : null}
        </div>
        <p className="mt-1 text-sm text-muted-fg">{setting.description}</p>
        <code className="text-xs text-muted-fg">{setting.key}</code>
      </div>
      {setting.type === "bool" ? (
        <div className="flex flex-col gap-1.5">
          <div className="flex items-center gap-2">
            <Switch
              id={id}
              aria-label={titleOf(setting.key)}
              checked={draft === true}
              disabled={readOnly}
              onCheckedChange={(checked) => onDraft(checked)}
            />
            <span className="text-sm">{draft === true ? "On" : "Off"}</span>
          </div>
          <p className="text-xs text-muted-fg">{hint}</p>
        </div>
      ) : (
        <Field label={titleOf(setting.key)} htmlFor={id} hint={hint} error={error} hideLabel>
          <Input
            id={id}
            inputMode="numeric"
            readOnly={readOnly}
            value={String(draft)}
            {...invalidProps(id, error)}
            onChange={(event) => onDraft(event.target.value)}
          />
        </Field>
      )}
    </div>
  );
}

function CategoryForm({ settings, readOnly }: { settings: Setting[]; readOnly: boolean }) {
  const queryClient = useQueryClient();
  const [drafts, setDrafts] = useState<Drafts>({});
  const [refused, setRefused] = useState<Record<string, string>>({});
  const pending = changes(settings, drafts);
  const save = useMutation({
    mutationFn: () => updateSettings(pending.values),
    onSuccess: async (answer) => {
      toast.success("Settings saved", answer.updated.join(", "));
      setDrafts({});
      setRefused({});
      await queryClient.invalidateQueries({ queryKey: ["settings"] });
    },
    onError: (error) => {
      const perKey = error instanceof ApiError ? serverErrors(error.message) : null;
      if (perKey) setRefused(perKey);
      toast.error(error, "Settings not saved");
    },
  });
  const dirty = Object.keys(pending.values).length + Object.keys(pending.errors).length > 0;
  const draftFor = (setting: Setting) => drafts[setting.key] ?? draftOf(setting);
  return (
    <Card>
      {settings.map((setting) => (
        <SettingRow
          key={setting.key}
          setting={setting}
          draft={draftFor(setting)}
          error={checkDraft(setting, draftFor(setting)) ?? refused[setting.key]}
          readOnly={readOnly}
          onDraft={(draft) => {
            setDrafts({ ...drafts, [setting.key]: draft });
            setRefused({});
          }}
        />
      ))}
      {readOnly ? null : (
        <div className="flex justify-end gap-2 border-t border-border pt-4">
          <Button variant="secondary" disabled={!dirty} onClick={() => setDrafts({})}>
            Discard changes
          </Button>
          <Button
            disabled={!dirty || Object.keys(pending.errors).length > 0 || save.isPending}
            onClick={() => save.mutate()}
          >
            Save changes
          </Button>
        </div>
      )}
    </Card>
  );
}

export default function SettingsPage() {
  const settings = useQuery({ queryKey: ["settings"], queryFn: listSettings });
  // Any admin reads them; only global admins change them.
  const readOnly = useSession()?.user?.role !== "global_admin";
  const list = settings.data?.settings ?? [];
  const categories = [...new Set(list.map((setting) => setting.category))];
  return (
    <>
      <PageHeader
        title="Settings"
        description="Dynamic settings: in force on the console and the S3 port as soon as saved."
      />
      {settings.isPending ? (
        <SkeletonRows rows={8} />
      ) : settings.error ? (
        <EmptyState title="Settings could not be read" description={settings.error.message} />
      ) : (
        <Tabs defaultValue={categories[0]}>
          <TabsList aria-label="Setting categories">
            {categories.map((category) => (
              <TabsTrigger key={category} value={category} className="capitalize">
                {category}
              </TabsTrigger>
            ))}
          </TabsList>
          {categories.map((category) => (
            <TabsContent key={category} value={category}>
              <CategoryForm
                settings={list.filter((setting) => setting.category === category)}
                readOnly={readOnly}
              />
            </TabsContent>
          ))}
        </Tabs>
      )}
    </>
  );
}
