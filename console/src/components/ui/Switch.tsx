import * as SwitchPrimitive from "@radix-ui/react-switch";

export function Switch(props: SwitchPrimitive.SwitchProps) {
  return (
    <SwitchPrimitive.Root
      className={
        "relative h-5 w-9 shrink-0 rounded-full bg-muted outline-none transition " +
        "border border-border data-[state=checked]:bg-primary disabled:opacity-50"
      }
      {...props}
    >
      <SwitchPrimitive.Thumb
        className={
          "block h-4 w-4 translate-x-0.5 rounded-full bg-white shadow transition " +
          "data-[state=checked]:translate-x-4"
        }
      />
    </SwitchPrimitive.Root>
  );
}
