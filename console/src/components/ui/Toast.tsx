// Toasts on Radix Toast (announced to screen readers, swipe and Escape to dismiss). Errors show
// the server's message and the request id, which finds the call in the admin's audit log.
import * as ToastPrimitive from "@radix-ui/react-toast";
import { useSyncExternalStore } from "react";
import { ApiError } from "../../api/client";
import { cn } from "../../lib";

interface ToastItem {
  id: number;
  tone: "error" | "success";
  title: string;
  description?: string;
  requestId?: string | null;
}

let items: ToastItem[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit() {
  listeners.forEach((listener) => listener());
}

function push(item: Omit<ToastItem, "id">) {
  items = [...items.slice(-4), { ...item, id: nextId++ }];
  emit();
}

function dismiss(id: number) {
  items = items.filter((item) => item.id !== id);
  emit();
}

export const toast = {
  success: (title: string, description?: string) => push({ tone: "success", title, description }),
  error: (error: unknown, title = "Request failed") => {
    if (error instanceof ApiError) {
      push({
        tone: "error",
        title: `${title}: ${error.code}`,
        description: error.message,
        requestId: error.requestId,
      });
    } else {
      push({ tone: "error", title, description: String(error) });
    }
  },
};

export function Toaster() {
  const current = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => items,
  );
  return (
    <ToastPrimitive.Provider swipeDirection="right" duration={6000}>
      {current.map((item) => (
        <ToastPrimitive.Root
          key={item.id}
          duration={item.tone === "error" ? 10000 : 4000}
          onOpenChange={(open) => (open ? undefined : dismiss(item.id))}
          className={cn(
            "relative rounded-md border bg-card p-4 pr-16 shadow-lg",
            item.tone === "error" ? "border-danger" : "border-border",
          )}
          data-testid={`toast-${item.tone}`}
        >
          <ToastPrimitive.Title className="text-sm font-semibold">
            {item.title}
          </ToastPrimitive.Title>
          {item.description ? (
            <ToastPrimitive.Description className="mt-1 text-sm">
              {item.description}
            </ToastPrimitive.Description>
          ) : null}
          {item.requestId ? (
            <p className="mt-1 font-mono text-xs text-muted-fg">request id: {item.requestId}</p>
          ) : null}
          <ToastPrimitive.Close className="absolute top-2 right-2 text-xs text-muted-fg">
            Dismiss
          </ToastPrimitive.Close>
        </ToastPrimitive.Root>
      ))}
      <ToastPrimitive.Viewport className="fixed right-4 bottom-4 z-[60] flex w-96 flex-col gap-2" />
    </ToastPrimitive.Provider>
  );
}
