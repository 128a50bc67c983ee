import { DeleteButton } from "./Button";
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
