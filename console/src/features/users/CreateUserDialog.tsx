import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { createUser, listTenants } from "../../api/endpoints";
import type { CreateUserRequest } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input, NativeSelect } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";

export function CreateUserDialog({
  open,
  onOpenChange,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const queryClient = useQueryClient();
  const tenants = useQuery({ queryKey: ["tenants"], queryFn: listTenants, enabled: open });
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<CreateUserRequest["role"]>("user");
  const [tenant, setTenant] = useState("");
  const mutation = useMutation({
    mutationFn: (body: CreateUserRequest) => createUser(body),
    onSuccess: async () => {
      toast.success("User created", username);
      await queryClient.invalidateQueries({ queryKey: ["users"] });
      onOpenChange(false);
      setUsername("");
      setPassword("");
    },
    onError: (error) => toast.error(error, "User not created"),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: CreateUserRequest = { username, password, role };
    if (tenant) body.tenant_id = tenant;
    mutation.mutate(body);
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Create user">
      <form onSubmit={submit} className="flex flex-col gap-4">
        <Field label="User name" htmlFor="user-name">
          <Input
            id="user-name"
            required
            autoFocus
            autoComplete="off"
            value={username}
            onChange={(event) => setUsername(event.target.value)}
          />
        </Field>
        <Field
          label="Password"
          htmlFor="user-password"
          hint="The password policy is in the security settings (8+ characters by default)."
        >
          <Input
            id="user-password"
            type="password"
            required
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field label="Role" htmlFor="user-role">
            <NativeSelect
              id="user-role"
              value={role}
              onChange={(event) => setRole(event.target.value as CreateUserRequest["role"])}
            >
              <option value="user">User</option>
              <option value="tenant_admin">Tenant admin</option>
              <option value="global_admin">Global admin</option>
            </NativeSelect>
          </Field>
          <Field label="Tenant" htmlFor="user-tenant">
            <NativeSelect
              id="user-tenant"
              value={tenant}
              onChange={(event) => setTenant(event.target.value)}
            >
              <option value="">No tenant</option>
              {(tenants.data?.tenants ?? []).map((item) => (
                <option key={item.id} value={item.id}>
                  {item.display_name || item.name}
                </option>
              ))}
            </NativeSelect>
          </Field>
        </div>
        <div className="mt-2 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" disabled={mutation.isPending}>
            {mutation.isPending ? "Creating…" : "Create user"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
