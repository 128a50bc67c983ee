// Files dropped on the object browser, folders included: DataTransfer items are read as
// file-system entries (webkitGetAsEntry, in every current browser) and folders walked, so a
// dropped folder keeps its paths. Without entries, the plain file list is used.

/** Most files one drop may add (a dropped home folder must not freeze the page). */
export const DROPPED_FILE_COUNT_MAX = 10_000;

export interface DroppedFile {
  file: File;
  /** Path inside what was dropped ("photos/2024/a.jpg"), or the file's name. */
  path: string;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

export async function droppedFiles(transfer: DataTransfer): Promise<DroppedFile[]> {
  const entries = Array.from(transfer.items)
    .map((item) => item.webkitGetAsEntry?.() ?? null)
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) {
    return Array.from(transfer.files, (file) => ({ file, path: file.name }));
  }
  const found: DroppedFile[] = [];
  // A queue instead of recursion: the walk is bounded by the file count, not the depth.
  const queue: [FileSystemEntry, string][] = entries.map((entry) => [entry, entry.name]);
  while (queue.length > 0 && found.length < DROPPED_FILE_COUNT_MAX) {
    const [entry, path] = queue.shift() as [FileSystemEntry, string];
    if (entry.isFile) {
      found.push({ file: await fileOf(entry as FileSystemFileEntry), path });
      continue;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in batches (100 in Chromium) until an empty one.
    for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) {
      for (const child of batch) queue.push([child, `${path}/${child.name}`]);
    }
  }
  return found;
}
