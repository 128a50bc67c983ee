// One user: who they are, their groups, the policies attached to them (attach, detach) and
// the effective ones (direct and through groups), as the server computes them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { getUser, listPolicies, setUserPolicy } from "../../api/endpoints";
import { Badge, Card, EmptyState, Facts, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { ChoiceAdder } from "../../components/ui/ChoiceAdder";
import { toast } from "../../components/ui/Toast";
import { formatDate } from "../../lib";
import { Chip } from "../iam/GroupsPage";

export default function UserDetailPage() {
  const { user: name = "" } = useParams();
  const queryClient = useQueryClient();
  const user = useQuery({ queryKey: ["users", name], queryFn: () => getUser(name) });
  const policies = useQuery({ queryKey: ["policies"], queryFn: listPolicies });
  const change = useMutation({
    mutationFn: ({ policy, on }: { policy: string; on: boolean }) =>
      setUserPolicy(name, policy, on),
    onSuccess: (grants) => {
      queryClient.setQueryData(["users", name], { ...user.data, ...grants });
    },
    onError: (error) => toast.error(error, "Policy not changed"),
  });
  const back = (
    <Link to="/users" className="text-sm text-primary underline">
      All users
    </Link>
  );
  if (user.isPending) return <SkeletonRows rows={6} />;
  if (user.error) {
    return (
      <>
        <PageHeader title={name} actions={back} />
        <EmptyState title="This user could not be read" description={user.error.message} />
      </>
    );
  }
  const detail = user.data;
  const attached = new Set(detail.policies.map((policy) => policy.id));
  const attachable = (policies.data?.policies ?? []).filter(
    (policy) =>
      !attached.has(policy.id) && (policy.builtin || policy.tenant_id === detail.tenant_id),
  );
  const facts: [string, string][] = [
    ["Role", detail.role],
    ["Tenant", detail.tenant_id ?? "—"],
    ["Status", detail.locked ? "locked" : detail.status],
    ["2FA", detail.two_factor_enabled ? "on" : "off"],
    ["Groups", detail.groups.map((group) => group.name).join(", ") || "—"],
    ["Created", formatDate(detail.created_at)],
  ];
  return (
    <>
      <PageHeader title={detail.username} description="User details and policies" actions={back} />
      <div className="grid grid-cols-2 gap-4">
        <Card>
          <Facts rows={facts} />
        </Card>
        <Card className="flex flex-col gap-3">
          <h2 className="font-semibold">Attached policies</h2>
          {detail.policies.length === 0 ? (
            <p className="text-sm text-muted-fg">
              None: this user may do only what their groups allow.
            </p>
          ) : (
            <ul className="flex flex-wrap gap-2" aria-label="Attached policies">
              {detail.policies.map((policy) => (
                <Chip
                  key={policy.id}
                  label={policy.name}
                  onRemove={() => change.mutate({ policy: policy.id, on: false })}
                />
              ))}
            </ul>
          )}
          <ChoiceAdder
            label="Policy to attach"
            choices={attachable.map((policy) => ({ value: policy.id, label: policy.name }))}
            action="Attach policy"
            pending={change.isPending}
            emptyText="Every policy is attached."
            onAdd={(policy) => change.mutate({ policy, on: true })}
          />
        </Card>
      </div>
      <h2 className="mt-8 mb-3 text-lg font-semibold">Effective policies</h2>
      {detail.effective_policies.length === 0 ? (
        <EmptyState
          title="No effective policy"
          description="Every S3 request of this user is denied. Attach a policy or add them to a group."
        />
      ) : (
        <ul className="flex flex-col gap-2" aria-label="Effective policies">
          {detail.effective_policies.map((policy) => (
            <li key={policy.id} className="flex items-center gap-3 text-sm">
              <span className="font-medium">{policy.name}</span>
              <Badge tone={policy.via_group ? "info" : "muted"}>
                {policy.via_group ? `through group ${policy.via_group}` : "attached"}
              </Badge>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
