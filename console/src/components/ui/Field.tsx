import * as LabelPrimitive from "@radix-ui/react-label";
import { forwardRef, type InputHTMLAttributes, type SelectHTMLAttributes } from "react";
import { cn } from "../../lib";

const FIELD =
  "h-9 w-full rounded-md border border-border bg-bg px-3 text-sm " +
  "placeholder:text-muted-fg disabled:opacity-50";

export const Input = forwardRef<HTMLInputElement, InputHTMLAttributes<HTMLInputElement>>(
  function Input({ className, ...props }, ref) {
    return <input ref={ref} className={cn(FIELD, className)} {...props} />;
  },
);

// The browser's own <select>: accessible and keyboard-driven without a library.
export const NativeSelect = forwardRef<HTMLSelectElement, SelectHTMLAttributes<HTMLSelectElement>>(
  function NativeSelect({ className, ...props }, ref) {
    return <select ref={ref} className={cn(FIELD, "pr-8", className)} {...props} />;
  },
);

export function Label({ className, ...props }: LabelPrimitive.LabelProps) {
  return <LabelPrimitive.Root className={cn("text-sm font-medium", className)} {...props} />;
}

/** The props that tie an input to its `Field`'s error message. */
export function invalidProps(htmlFor: string, error: string | undefined) {
  return error
    ? { "aria-invalid": true as const, "aria-describedby": errorId(htmlFor) }
    : { "aria-invalid": undefined, "aria-describedby": undefined };
}

const errorId = (htmlFor: string) => `${htmlFor}-error`;

/** A label, its input, and a hint or (in its place) the input's error. */
export function Field({
  label,
  htmlFor,
  hint,
  error,
  hideLabel,
  children,
}: {
  label: string;
  htmlFor: string;
  hint?: string;
  error?: string;
  /** For screen readers only, where the label is already shown nearby. */
  hideLabel?: boolean;
  children: React.ReactNode;
}) {
  return (
    <div className="flex flex-col gap-1.5">
      <Label htmlFor={htmlFor} className={hideLabel ? "sr-only" : undefined}>
        {label}
      </Label>
      {children}
      {error ? (
        <p id={errorId(htmlFor)} className="text-xs text-danger">
          {error}
        </p>
      ) : hint ? (
        <p className="text-xs text-muted-fg">{hint}</p>
      ) : null}
    </div>
  );
}
