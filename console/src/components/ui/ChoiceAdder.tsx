import { useState } from "react";
import { Button } from "./Button";
import { NativeSelect } from "./Field";

/** A select of what may be added (a member, a policy) and the button that adds the choice;
 * nothing to offer reads as `emptyText`. */
export function ChoiceAdder({
  label,
  choices,
  action,
  onAdd,
  pending,
  emptyText,
}: {
  label: string;
  choices: { value: string; label: string }[];
  action: string;
  onAdd: (value: string) => void;
  pending?: boolean;
  emptyText: string;
}) {
  const [value, setValue] = useState("");
  if (choices.length === 0) return <p className="text-xs text-muted-fg">{emptyText}</p>;
  const chosen = choices.some((choice) => choice.value === value) ? value : "";
  return (
    <div className="flex items-center gap-2">
      <NativeSelect
        aria-label={label}
        value={chosen}
        onChange={(event) => setValue(event.target.value)}
        className="max-w-64"
      >
        <option value="">Choose…</option>
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </NativeSelect>
      <Button
        size="sm"
        variant="secondary"
        disabled={!chosen || pending}
        onClick={() => {
          onAdd(chosen);
          setValue("");
        }}
      >
        {action}
      </Button>
    </div>
  );
}
