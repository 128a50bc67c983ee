import { Link } from "react-router";
import { EmptyState } from "../../components/ui/Card";

export default function NotFoundPage() {
  return (
    <EmptyState
      title="No such page"
      description="The address does not match a console page."
      action={
        <Link to="/" className="text-sm text-primary underline">
          Go to the dashboard
        </Link>
      }
    />
  );
}
