import type { ReactNode } from "react";
import { Button, DeleteButton } from "./Button";
import { Input, Label } from "./Field";

export interface KeyValue {
  key: string;
  value: string;
}

/** Key and value inputs, one row per tag, each with its remove button (a bucket's or an
 * object's tags). */
export function TagFields({
  tags,
  onChange,
}: {
  tags: KeyValue[];
  onChange: (tags: KeyValue[]) => void;
}) {
  const set = (index: number, tag: KeyValue) =>
    onChange(tags.map((old, at) => (at === index ? tag : old)));
  return (
    <div className="grid grid-cols-[1fr_1fr_auto] items-center gap-2">
      <Label>Key</Label>
      <Label>Value</Label>
      <span />
      {tags.map((tag, index) => (
        <div key={index} className="contents">
          <Input
            aria-label={`Tag ${index + 1} key`}
            value={tag.key}
            onChange={(event) => set(index, { ...tag, key: event.target.value })}
          />
          <Input
            aria-label={`Tag ${index + 1} value`}
            value={tag.value}
            onChange={(event) => set(index, { ...tag, value: event.target.value })}
          />
          <DeleteButton
            label={`Remove tag ${index + 1}`}
            onClick={() => onChange(tags.filter((_, at) => at !== index))}
          >
            Remove
          </DeleteButton>
        </div>
      ))}
    </div>
  );
}

/** A tag set being edited: the rows (or `empty` when there are none), what is wrong with
 * them, and the Add tag and Save tags buttons. */
export function TagSetEditor({
  tags,
  onChange,
  problem,
  empty,
  saving,
  onSave,
}: {
  tags: KeyValue[];
  onChange: (tags: KeyValue[]) => void;
  problem: string | undefined;
  empty: ReactNode;
  saving: boolean;
  onSave: () => void;
}) {
  return (
    <>
      {tags.length === 0 ? empty : <TagFields tags={tags} onChange={onChange} />}
      {problem ? (
        <p className="text-sm text-danger" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="flex justify-between gap-2">
        <Button variant="secondary" onClick={() => onChange([...tags, { key: "", value: "" }])}>
          Add tag
        </Button>
        <Button disabled={problem !== undefined || saving} onClick={onSave}>
          Save tags
        </Button>
      </div>
    </>
  );
}
