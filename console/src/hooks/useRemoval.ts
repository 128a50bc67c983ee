// The delete-after-confirmation flow of a list page: which item waits for confirmation, the
// call, a toast either way, and the list refreshed. The page renders
// <ConfirmDialog {...removal.dialog} title=... /> and calls removal.ask(item) from a row.
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useState } from "react";
import { toast } from "../components/ui/Toast";

export function useRemoval<Item>({
  remove,
  refresh,
  removed,
  failed,
}: {
  remove: (item: Item) => Promise<unknown>;
  /** The query to refetch once removed. */
  refresh: QueryKey;
  /** The success toast's title and description. */
  removed: (item: Item) => [string, string?];
  failed: string;
}) {
  const queryClient = useQueryClient();
  const [doomed, setDoomed] = useState<Item | null>(null);
  const mutation = useMutation({
    mutationFn: remove,
    onSuccess: async (_, item) => {
      toast.success(...removed(item));
      setDoomed(null);
      await queryClient.invalidateQueries({ queryKey: refresh });
    },
    onError: (error) => toast.error(error, failed),
  });
  return {
    doomed,
    ask: setDoomed,
    dialog: {
      open: doomed !== null,
      onOpenChange: (open: boolean) => (open ? undefined : setDoomed(null)),
      pending: mutation.isPending,
      onConfirm: () => (doomed === null ? undefined : mutation.mutate(doomed)),
    },
  };
}
