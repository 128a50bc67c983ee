import { useState } from "react";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input, invalidProps } from "../../components/ui/Field";

/** S3 has no empty folders: a new folder is a prefix to open, and exists once a file is
 * uploaded into it. */
export function NewFolderDialog({
  open,
  onOpenChange,
  onCreate,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreate: (name: string) => void;
}) {
  const [name, setName] = useState("");
  const trimmed = name.trim().replace(/^\/+|\/+$/g, "");
  const error = name !== "" && trimmed === "" ? "A folder needs a name" : undefined;
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="New folder"
      description="The folder stays in the list once a file is uploaded into it."
    >
      <form
        className="flex flex-col gap-4"
        onSubmit={(event) => {
          event.preventDefault();
          if (trimmed === "") return;
          onCreate(trimmed);
          setName("");
        }}
      >
        <Field label="Folder name" htmlFor="folder-name" error={error}>
          <Input
            id="folder-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            {...invalidProps("folder-name", error)}
          />
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" disabled={trimmed === ""}>
            Open folder
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
